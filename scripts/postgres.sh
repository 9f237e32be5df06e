# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the tests (and the benchmark). Source it, then:
#   source scripts/postgres.sh
#   pg_start   # initdb + postgres on a free 127.0.0.1 port, in a fresh temp dir; exports
#              # MEMBER_LOGIN_TEST_POSTGRES=postgres://member_login@127.0.0.1:PORT/postgres
#   pg_stop    # stops the cluster and removes its dir (safe to call again)
# The server binaries come from the distribution (scripts/setup.sh installs the Debian package
# `postgresql`): the newest /usr/lib/postgresql/*/bin, else `pg_config --bindir`, else initdb's
# directory in PATH. The cluster runs as an unprivileged user (postgres refuses root): as root,
# the package's `postgres` user (or a system user member-login-pg, created if needed),
# otherwise the current user. The role member_login is a superuser with trust authentication
# (loopback only), so the tests can create a database per test through that URL. Durability
# is off (fsync, synchronous_commit, full_page_writes): the data is thrown away anyway.
#
# Clean-up: pg_start registers pg_stop on EXIT, so the cluster goes away however the caller
# ends. An EXIT trap the caller had already set is kept: it runs after pg_stop, with the exit
# status it would have seen. Unless the caller traps INT or TERM itself, pg_start traps them
# to exit 130 / 143, which runs the EXIT trap (bash alone would die on TERM without running
# it). A caller that traps INT or TERM itself should exit from its handler; traps set after
# pg_start replace these ones. Called in a subshell, pg_start resets that subshell's RETURN
# trap (see _pg_traps).

_pg_dir=
_pg_bin=
_pg_user=

_pg_say() { printf '[postgres] %s\n' "$*" >&2; }

# _pg_bindir: prints the directory holding initdb, pg_ctl and postgres.
_pg_bindir() {
  local d newest=
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [ -x "$d/initdb" ] && newest=$d
  done
  if [ -z "$newest" ] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ] && newest=$d
  fi
  if [ -z "$newest" ] && d=$(command -v initdb 2>/dev/null); then
    newest=$(dirname "$(readlink -f "$d")")
  fi
  [ -n "$newest" ] && [ -x "$newest/pg_ctl" ] && [ -x "$newest/postgres" ] && echo "$newest"
}

# _pg_owner: prints the user the cluster runs as when we are root (empty when we are not).
_pg_owner() {
  [ "$(id -u)" = 0 ] || return 0
  local u
  for u in postgres member-login-pg; do
    if id -u "$u" >/dev/null 2>&1; then echo "$u"; return 0; fi
  done
  if command -v useradd >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin member-login-pg >/dev/null
  else
    adduser --system --no-create-home member-login-pg >/dev/null
  fi && echo member-login-pg
}

# _pg_as COMMAND...: runs COMMAND as the cluster's owner, in the cluster's dir.
_pg_as() {
  (
    cd "$_pg_dir" || exit 1
    if [ -z "$_pg_user" ]; then
      "$@"
    elif command -v runuser >/dev/null 2>&1; then
      runuser -u "$_pg_user" -- "$@"
    else
      su -s /bin/sh "$_pg_user" -c 'exec "$0" "$@"' "$@"
    fi
  )
}

# _pg_free_port: prints a loopback TCP port nothing listens on.
_pg_free_port() {
  local p i
  if command -v python3 >/dev/null 2>&1; then
    p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null)
    case $p in '' | *[!0-9]*) ;; *) echo "$p"; return 0 ;; esac
  fi
  p=$((20000 + RANDOM % 30000))
  for ((i = 0; i < 100; i++, p++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# _pg_traps: runs pg_stop on EXIT (before any EXIT trap already set), and exits on INT/TERM.
_pg_traps() {
  local -a prev=()
  # A subshell shows its parent's traps in `trap -p` (inactive there) until it sets a trap of
  # its own: reset RETURN (a no-op unless the subshell set one) so that we see only its own.
  [ "$BASH_SUBSHELL" -eq 0 ] || trap - RETURN
  eval "prev=($(trap -p EXIT))" # trap -- 'COMMAND' EXIT, quoted for reuse
  local cmd=${prev[2]:-}
  case $cmd in *pg_stop*) ;; *)
    # shellcheck disable=SC2064 # expand the caller's trap now, on purpose
    trap "_pg_status=\$?; pg_stop; (exit \$_pg_status)${cmd:+; $cmd}" EXIT ;;
  esac
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
}

pg_start() {
  if [ -n "$_pg_dir" ]; then
    _pg_say "already running: $MEMBER_LOGIN_TEST_POSTGRES"
    return 0
  fi
  _pg_bin=$(_pg_bindir) || {
    _pg_say "no PostgreSQL server binaries (initdb, pg_ctl, postgres); run: bash scripts/setup.sh test"
    return 1
  }
  _pg_user=$(_pg_owner) || { _pg_say "could not find or create an unprivileged user to run PostgreSQL"; return 1; }
  local base=${TMPDIR:-/tmp}
  [ -n "$_pg_user" ] && base=/tmp # the owner must reach it; root's TMPDIR may be private
  _pg_traps
  _pg_dir=$(mktemp -d "$base/member-login-pg.XXXXXX") || { _pg_dir=; return 1; }
  if [ -n "$_pg_user" ]; then
    chmod 0700 "$_pg_dir" && chown "$_pg_user:" "$_pg_dir" || { pg_stop; return 1; }
  fi

  # data/: the cluster; the dir itself holds the Unix socket and the logs.
  if ! _pg_as env LC_ALL=C "$_pg_bin/initdb" -D "$_pg_dir/data" -A trust --username=member_login \
    -E UTF8 --locale=C --no-sync >"$_pg_dir/initdb.log" 2>&1; then
    _pg_say "initdb failed:"
    tail -n 20 "$_pg_dir/initdb.log" >&2
    pg_stop
    return 1
  fi

  # A port picked free can be taken before postgres binds it: try a few.
  local port attempt
  for attempt in 1 2 3; do
    port=$(_pg_free_port) || { _pg_say "no free loopback port"; pg_stop; return 1; }
    if _pg_as "$_pg_bin/pg_ctl" -w -t 60 -D "$_pg_dir/data" -l "$_pg_dir/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$_pg_dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >"$_pg_dir/pg_ctl.log" 2>&1; then
      export MEMBER_LOGIN_TEST_POSTGRES="postgres://member_login@127.0.0.1:$port/postgres"
      _pg_say "PostgreSQL $("$_pg_bin/postgres" --version | awk '{print $3}') at $MEMBER_LOGIN_TEST_POSTGRES ($_pg_dir)"
      return 0
    fi
    grep -q 'could not bind\|already in use' "$_pg_dir/postgres.log" 2>/dev/null || break
  done
  _pg_say "PostgreSQL did not start; end of its log:"
  tail -n 20 "$_pg_dir/pg_ctl.log" "$_pg_dir/postgres.log" >&2 2>/dev/null
  pg_stop
  return 1
}

pg_stop() {
  [ -n "${_pg_dir:-}" ] || return 0
  local dir=$_pg_dir pid i
  if [ -f "$dir/data/postmaster.pid" ]; then
    if ! _pg_as "$_pg_bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
      # pg_ctl could not stop it: send postgres' "immediate shutdown" signal ourselves.
      pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
      if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
  fi
  rm -rf "$dir"
  _pg_dir=
  unset MEMBER_LOGIN_TEST_POSTGRES
}
