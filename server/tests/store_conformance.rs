//! The conformance suite of the store traits (`member_login_server::store`): the contract
//! every store implementation must pass, whatever its backend. Each check is written once, as
//! an `async fn NAME(s: &Subject)`, and `conformance!(NAME)` runs it on a fresh database of
//! each backend in the same test run, as the tests `NAME::sqlite` and `NAME::postgres` (the
//! latter needs `MEMBER_LOGIN_TEST_POSTGRES`, which scripts/test.sh sets). A new backend gets
//! a third test per check here, and must pass them all.
//!
//! The checks that parallel requests could race on (counters, compare-and-swaps, single-use
//! codes) start many calls at once on a multi-threaded runtime, against one store whose pool
//! has several connections, and count the winners. Where a lost race shows only now and then,
//! a check also starts the store's call while another writer's change is still uncommitted
//! (`Subject::while_uncommitted`).

mod common;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use common::TestDatabase;
use member_login_api::flow::FlowState;
use member_login_api::{LoginMethod, Organization, OrganizationKey};
use member_login_server::error::Error;
use member_login_server::login::flow::{Flow, PendingCode};
use member_login_server::mail_text::Language;
use member_login_server::store::{
    self, CodeSends, Db, FailedLogins, Hit, MemberRecord, NewMember, NewOrganization,
    OrganizationRecord, PasskeyRecord, PublicSettings, Purged, SecuritySettings, SessionRecord,
    SettingsChange, Store, StoredEmail,
};
use sqlx::Connection;

/// Runs a check on both backends: `conformance!(name)` makes `name::sqlite` and
/// `name::postgres`.
macro_rules! conformance {
    ($check:ident) => {
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$check(&super::Subject::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$check(&super::Subject::postgres().await).await;
            }
        }
    };
}

/// The store under test, on its own fresh database.
struct Subject {
    db: Db,
    /// What `backend()` must say.
    name: &'static str,
    database: TestDatabase,
}

impl Subject {
    async fn sqlite() -> Self {
        Self::open(TestDatabase::sqlite(), "sqlite").await
    }

    async fn postgres() -> Self {
        Self::open(TestDatabase::postgres().await, "postgres").await
    }

    async fn open(database: TestDatabase, name: &'static str) -> Self {
        let db = store::open(&database.url).await.unwrap();
        Self { db, name, database }
    }

    /// Runs one SQL statement on the database behind the store's back, on a connection of its
    /// own.
    async fn raw(&self, sql: &str) {
        let url = &self.database.url;
        if self.name == "postgres" {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

impl Subject {
    /// Runs `sql` in a transaction on a connection of its own, and starts `meanwhile` while
    /// that transaction is open: commits once `meanwhile` waits for it (PostgreSQL: waits on a
    /// lock; SQLite, which has no view of that: after a pause) or is done, then answers what
    /// `meanwhile` gives.
    async fn while_uncommitted<T: Send + 'static>(
        &self,
        sql: &str,
        meanwhile: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let url = &self.database.url;
        let task;
        if self.name == "postgres" {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query(sql).execute(&mut *tx).await.unwrap();
            task = tokio::spawn(meanwhile);
            let mut watch = sqlx::PgConnection::connect(url).await.unwrap();
            for _ in 0..1000 {
                let (waiting,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(&mut watch)
                .await
                .unwrap();
                if waiting > 0 || task.is_finished() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            tx.commit().await.unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query(sql).execute(&mut *tx).await.unwrap();
            task = tokio::spawn(meanwhile);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            tx.commit().await.unwrap();
        }
        task.await.unwrap()
    }
}

impl Deref for Subject {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &*self.db
    }
}

/// Starts `n` calls at once, each on its own task, released together; their results in call
/// order.
async fn at_once<T, F>(n: usize, call: impl Fn(usize) -> F) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (start, call) = (start.clone(), call(i));
            tokio::spawn(async move {
                start.wait().await;
                call.await
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn winners(results: &[bool]) -> usize {
    results.iter().filter(|&&won| won).count()
}

// --- Seeds -------------------------------------------------------------------------------

const ACME: &str = "a1a1a1a1-0000-4000-8000-000000000001";
const GLOBEX: &str = "b2b2b2b2-0000-4000-8000-000000000002";
const ZETA: &str = "d4d4d4d4-0000-4000-8000-000000000004";
const NOW: i64 = 1_800_000_000;

fn new_org(id: &str, alias: &str) -> NewOrganization {
    NewOrganization {
        id: id.into(),
        alias: alias.into(),
        name: format!("{alias} Inc."),
        login_methods: vec![LoginMethod::EmailCode, LoginMethod::Password],
        max_failed_logins: 5,
        session_seconds: 3600,
        security: SecuritySettings::default(),
        public: PublicSettings::default(),
    }
}

/// Every public setting set, as the admin CLI would store them.
fn branded() -> PublicSettings {
    PublicSettings {
        logo_url: Some("https://cdn.example/logo.svg?v=2".into()),
        accent_color: Some("#0b5fff".into()),
        return_urls: vec![
            "https://console.example/".into(),
            "https://apps.example:8443/team/".into(),
            "http://localhost:3000/".into(),
        ],
        console_url: Some("https://console.example/home".into()),
    }
}

async fn org(s: &Subject, id: &str, alias: &str) {
    assert!(s.ensure_organization(&new_org(id, alias)).await.unwrap());
}

fn new_member(org: &str, username: &str) -> NewMember {
    NewMember {
        organization_id: org.into(),
        username: username.into(),
        email: format!("{username}@example.com"),
        password_hash: Some(format!("hash-of-{username}")),
    }
}

/// A new member of `org` (which must exist).
async fn member(s: &Subject, org: &str, username: &str) -> MemberRecord {
    assert!(s.ensure_member(&new_member(org, username)).await.unwrap());
    s.member_by_username(org, username).await.unwrap().unwrap()
}

/// Acme with the member kim.
async fn acme_and_kim(s: &Subject) -> MemberRecord {
    org(s, ACME, "acme").await;
    member(s, ACME, "kim").await
}

async fn reload(s: &Subject, m: &MemberRecord) -> MemberRecord {
    s.member(&m.id).await.unwrap().unwrap()
}

/// MemberRecord has no `PartialEq`: compare everything it shows.
fn assert_same<T: std::fmt::Debug + ?Sized>(a: &T, b: &T) {
    assert_eq!(format!("{a:#?}"), format!("{b:#?}"));
}

/// Everything an OrganizationRecord holds, comparable: the public part, max_failed_logins,
/// session_seconds, enforce_mfa, enforce_password_renewal, grace_period_seconds,
/// lock_until_unlocked.
type Fields = (Organization, i64, i64, bool, bool, i64, bool);

fn fields(r: &OrganizationRecord) -> Fields {
    (
        r.public.clone(),
        r.max_failed_logins,
        r.session_seconds,
        r.enforce_mfa,
        r.enforce_password_renewal,
        r.grace_period_seconds,
        r.lock_until_unlocked,
    )
}

const STATES: [FlowState; 5] = [
    FlowState::Username,
    FlowState::ChooseMethod,
    FlowState::EmailCode,
    FlowState::SecondFactor,
    FlowState::Complete,
];

/// A flow of Acme with every field set (kim's member ID, if given, must exist).
fn full_flow(id: &str, username: &str, member_id: Option<&str>, state: FlowState) -> Flow {
    Flow {
        id: id.into(),
        organization_id: ACME.into(),
        state,
        username: Some(username.into()),
        member_id: member_id.map(Into::into),
        created_at: NOW,
        expires_at: NOW + 1800,
        code: Some(PendingCode {
            hash: format!("code-of-{id}"),
            expires_at: NOW + 600,
            attempts_left: 4,
        }),
        codes_sent: 2,
        resend_available_at: Some(NOW + 60),
        version: 0,
        replaced_by: None,
        language: Language::Fr,
        passkey_challenge: Some(format!("challenge-of-{id}")),
    }
}

/// A flow of Acme as it starts: no username, no code, English.
fn bare_flow(id: &str) -> Flow {
    Flow::start(id.into(), ACME.into(), None, None, Language::En, NOW)
}

async fn read_flow(s: &Subject, id: &str) -> Flow {
    s.flow(id).await.unwrap().unwrap()
}

// --- Organizations -------------------------------------------------------------------------

async fn organizations_are_found_by_id_and_alias(s: &Subject) {
    org(s, GLOBEX, "globex").await;
    org(s, ACME, "acme").await;
    let acme = s.organization_record(ACME).await.unwrap().unwrap().public;
    let by_id = OrganizationKey::Id(ACME.into());
    let by_alias = OrganizationKey::Alias("acme".into());
    assert_eq!(
        s.find_organization(&by_id).await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(s.find_organization(&by_alias).await.unwrap(), Some(acme));
    for key in [
        OrganizationKey::Alias("initech".into()),
        OrganizationKey::Id("c3c3c3c3-0000-4000-8000-000000000003".into()),
        // Each key is looked up in its own column only.
        OrganizationKey::Alias(ACME.into()),
        OrganizationKey::Id("acme".into()),
    ] {
        assert_eq!(s.find_organization(&key).await.unwrap(), None, "{key:?}");
    }
    assert!(s.organization_record("nope").await.unwrap().is_none());
}
conformance!(organizations_are_found_by_id_and_alias);

async fn organizations_are_listed_by_alias(s: &Subject) {
    assert!(s.list_organizations().await.unwrap().is_empty());
    for (id, alias) in [(GLOBEX, "globex"), (ACME, "acme"), (ZETA, "zeta")] {
        org(s, id, alias).await;
    }
    let aliases: Vec<String> = s
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.alias)
        .collect();
    assert_eq!(aliases, ["acme", "globex", "zeta"]);
}
conformance!(organizations_are_listed_by_alias);

async fn ensure_organization_is_idempotent(s: &Subject) {
    let first = new_org(ACME, "acme");
    assert!(s.ensure_organization(&first).await.unwrap());
    let before = fields(&s.organization_record(ACME).await.unwrap().unwrap());
    let again = NewOrganization {
        name: "Renamed".into(),
        login_methods: vec![LoginMethod::Password],
        max_failed_logins: 1,
        session_seconds: 1,
        security: SecuritySettings {
            enforce_mfa: true,
            enforce_password_renewal: true,
            grace_period_seconds: 1,
            lock_until_unlocked: true,
        },
        public: branded(),
        ..first.clone()
    };
    assert!(!s.ensure_organization(&again).await.unwrap());
    assert!(!s.ensure_organization(&first).await.unwrap());
    let after = fields(&s.organization_record(ACME).await.unwrap().unwrap());
    assert_eq!(after, before);
    assert_eq!(s.list_organizations().await.unwrap().len(), 1);
}
conformance!(ensure_organization_is_idempotent);

async fn organization_records_round_trip(s: &Subject) {
    let orgs = [
        NewOrganization {
            login_methods: vec![LoginMethod::Password, LoginMethod::EmailCode],
            max_failed_logins: 7,
            session_seconds: 1 << 40,
            security: SecuritySettings {
                enforce_mfa: true,
                enforce_password_renewal: false,
                grace_period_seconds: i64::MAX,
                lock_until_unlocked: true,
            },
            public: branded(),
            ..new_org(ACME, "acme")
        },
        NewOrganization {
            name: "Globex — “Ünïcode” ☃".into(),
            login_methods: vec![LoginMethod::EmailCode],
            max_failed_logins: 1,
            session_seconds: 0,
            security: SecuritySettings {
                enforce_mfa: false,
                enforce_password_renewal: true,
                grace_period_seconds: -1,
                lock_until_unlocked: false,
            },
            ..new_org(GLOBEX, "globex")
        },
        NewOrganization {
            login_methods: vec![],
            public: PublicSettings {
                accent_color: Some("#000000".into()),
                return_urls: vec!["https://zeta.example/a/b/".into()],
                ..PublicSettings::default()
            },
            ..new_org(ZETA, "zeta")
        },
    ];
    for new in &orgs {
        assert!(s.ensure_organization(new).await.unwrap());
    }
    for new in &orgs {
        let record = s.organization_record(&new.id).await.unwrap().unwrap();
        let expected = (
            Organization {
                id: new.id.clone(),
                alias: new.alias.clone(),
                name: new.name.clone(),
                login_methods: new.login_methods.clone(),
                logo_url: new.public.logo_url.clone(),
                accent_color: new.public.accent_color.clone(),
                return_urls: new.public.return_urls.clone(),
                console_url: new.public.console_url.clone(),
            },
            new.max_failed_logins,
            new.session_seconds,
            new.security.enforce_mfa,
            new.security.enforce_password_renewal,
            new.security.grace_period_seconds,
            new.security.lock_until_unlocked,
        );
        assert_eq!(fields(&record), expected);
        let by_id = OrganizationKey::Id(new.id.clone());
        assert_eq!(s.find_organization(&by_id).await.unwrap(), Some(expected.0));
    }
}
conformance!(organization_records_round_trip);

async fn settings_changes_keep_what_is_none(s: &Subject) {
    org(s, ACME, "acme").await;
    org(s, GLOBEX, "globex").await;
    let record = || async { fields(&s.organization_record(ACME).await.unwrap().unwrap()) };
    let globex = fields(&s.organization_record(GLOBEX).await.unwrap().unwrap());
    let mut expected = record().await;

    s.update_organization_settings(ACME, &SettingsChange::default())
        .await
        .unwrap();
    assert_eq!(record().await, expected, "an empty change changes nothing");

    let one_at_a_time = [
        SettingsChange {
            login_methods: Some(vec![LoginMethod::Password]),
            ..SettingsChange::default()
        },
        SettingsChange {
            max_failed_logins: Some(9),
            ..SettingsChange::default()
        },
        SettingsChange {
            session_seconds: Some(60),
            ..SettingsChange::default()
        },
        SettingsChange {
            enforce_mfa: Some(true),
            ..SettingsChange::default()
        },
        SettingsChange {
            enforce_password_renewal: Some(true),
            ..SettingsChange::default()
        },
        SettingsChange {
            grace_period_seconds: Some(120),
            ..SettingsChange::default()
        },
        SettingsChange {
            lock_until_unlocked: Some(true),
            ..SettingsChange::default()
        },
        SettingsChange {
            logo_url: Some(Some("https://cdn.example/a.png".into())),
            ..SettingsChange::default()
        },
        SettingsChange {
            accent_color: Some(Some("#00695c".into())),
            ..SettingsChange::default()
        },
        SettingsChange {
            return_urls: Some(vec![
                "https://console.example/".into(),
                "https://apps.example/x/".into(),
            ]),
            ..SettingsChange::default()
        },
        SettingsChange {
            console_url: Some(Some("https://console.example/".into())),
            ..SettingsChange::default()
        },
        // Removed one at a time, each leaving the others.
        SettingsChange {
            logo_url: Some(None),
            ..SettingsChange::default()
        },
        SettingsChange {
            return_urls: Some(vec![]),
            ..SettingsChange::default()
        },
        SettingsChange {
            accent_color: Some(None),
            ..SettingsChange::default()
        },
        SettingsChange {
            console_url: Some(None),
            ..SettingsChange::default()
        },
    ];
    for change in &one_at_a_time {
        s.update_organization_settings(ACME, change).await.unwrap();
        apply(&mut expected, change);
        assert_eq!(record().await, expected, "after {change:?}");
    }

    let all = SettingsChange {
        login_methods: Some(vec![LoginMethod::Password, LoginMethod::EmailCode]),
        max_failed_logins: Some(3),
        session_seconds: Some(7200),
        enforce_mfa: Some(false),
        enforce_password_renewal: Some(false),
        grace_period_seconds: Some(86400),
        lock_until_unlocked: Some(false),
        logo_url: Some(Some("https://cdn.example/b.png".into())),
        accent_color: Some(Some("#4f0599".into())),
        return_urls: Some(vec!["http://127.0.0.1:8080/".into()]),
        console_url: Some(Some("http://127.0.0.1:8080/console".into())),
    };
    s.update_organization_settings(ACME, &all).await.unwrap();
    apply(&mut expected, &all);
    assert_eq!(record().await, expected);

    let globex_after = fields(&s.organization_record(GLOBEX).await.unwrap().unwrap());
    assert_eq!(globex_after, globex, "another Organization is left alone");
    // An unknown ID changes nothing and is no error.
    s.update_organization_settings("nope", &all).await.unwrap();
}
conformance!(settings_changes_keep_what_is_none);

fn apply(record: &mut Fields, change: &SettingsChange) {
    if let Some(methods) = &change.login_methods {
        record.0.login_methods = methods.clone();
    }
    record.1 = change.max_failed_logins.unwrap_or(record.1);
    record.2 = change.session_seconds.unwrap_or(record.2);
    record.3 = change.enforce_mfa.unwrap_or(record.3);
    record.4 = change.enforce_password_renewal.unwrap_or(record.4);
    record.5 = change.grace_period_seconds.unwrap_or(record.5);
    record.6 = change.lock_until_unlocked.unwrap_or(record.6);
    let public = &mut record.0;
    if let Some(logo_url) = &change.logo_url {
        public.logo_url = logo_url.clone();
    }
    if let Some(accent_color) = &change.accent_color {
        public.accent_color = accent_color.clone();
    }
    if let Some(return_urls) = &change.return_urls {
        public.return_urls = return_urls.clone();
    }
    if let Some(console_url) = &change.console_url {
        public.console_url = console_url.clone();
    }
}

// --- Members -------------------------------------------------------------------------------

async fn ensure_member_is_idempotent(s: &Subject) {
    org(s, ACME, "acme").await;
    org(s, GLOBEX, "globex").await;
    let kim = member(s, ACME, "kim").await;
    let again = NewMember {
        email: "other@example.com".into(),
        password_hash: None,
        ..new_member(ACME, "kim")
    };
    assert!(!s.ensure_member(&again).await.unwrap());
    assert!(!s.ensure_member(&new_member(ACME, "kim")).await.unwrap());
    let members = s.list_members(ACME).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_same(&members[0], &kim);

    // The same username in another Organization is another member.
    let other = member(s, GLOBEX, "kim").await;
    assert_ne!(other.id, kim.id);

    // Of parallel creations of one member, exactly one creates it.
    let created = at_once(10, |_| {
        let db = s.db.clone();
        async move { db.ensure_member(&new_member(ACME, "sam")).await.unwrap() }
    })
    .await;
    assert_eq!(winners(&created), 1, "{created:?}");
    assert_eq!(s.list_members(ACME).await.unwrap().len(), 2);
}
conformance!(ensure_member_is_idempotent);

async fn members_are_found_by_id_and_username(s: &Subject) {
    org(s, ACME, "acme").await;
    org(s, GLOBEX, "globex").await;
    for username in ["sam", "kim", "alex"] {
        member(s, ACME, username).await;
    }
    member(s, GLOBEX, "bo").await;
    let no_password = NewMember {
        password_hash: None,
        ..new_member(GLOBEX, "cy")
    };
    assert!(s.ensure_member(&no_password).await.unwrap());

    let kim = s.member_by_username(ACME, "kim").await.unwrap().unwrap();
    assert!(!kim.id.is_empty());
    assert_eq!(kim.organization_id, ACME);
    assert_eq!(kim.username, "kim");
    assert_eq!(kim.email, "kim@example.com");
    assert_eq!(kim.password_hash.as_deref(), Some("hash-of-kim"));
    assert_eq!(kim.failed_logins, 0);
    assert!(!kim.locked);
    assert_eq!(kim.totp_secret, None);
    assert_eq!(kim.totp_last_step, None);
    assert_eq!(kim.first_login_at, None);
    assert_eq!(kim.password_changed_at, None);
    assert_eq!((kim.locked_until, kim.lockouts), (None, 0));
    assert_eq!(kim.mfa_required_since, None);
    assert_eq!(kim.password_renewal_required_since, None);
    assert!(!kim.locked_at(NOW));
    assert_same(&s.member(&kim.id).await.unwrap().unwrap(), &kim);
    let cy = s.member_by_username(GLOBEX, "cy").await.unwrap().unwrap();
    assert_eq!(cy.password_hash, None);

    assert!(s.member("nope").await.unwrap().is_none());
    assert!(s.member_by_username(ACME, "bo").await.unwrap().is_none());
    assert!(s.member_by_username(GLOBEX, "kim").await.unwrap().is_none());
    // Case does not matter: "KIM" is kim.
    let upper = s.member_by_username(ACME, "KIM").await.unwrap().unwrap();
    assert_eq!(
        (upper.id.as_str(), upper.username.as_str()),
        (kim.id.as_str(), "kim")
    );

    let names = |members: Vec<MemberRecord>| -> Vec<String> {
        members.into_iter().map(|m| m.username).collect()
    };
    assert_eq!(
        names(s.list_members(ACME).await.unwrap()),
        ["alex", "kim", "sam"]
    );
    assert_eq!(names(s.list_members(GLOBEX).await.unwrap()), ["bo", "cy"]);
    assert!(s.list_members("nope").await.unwrap().is_empty());
}
conformance!(members_are_found_by_id_and_username);

async fn member_ids_are_found_by_username(s: &Subject) {
    let kim = acme_and_kim(s).await;
    org(s, GLOBEX, "globex").await;
    let other = member(s, GLOBEX, "kim").await;
    let id = |org: &'static str, username: &'static str| async move {
        s.member_id_by_username(org, username).await.unwrap()
    };
    assert_eq!(id(ACME, "kim").await, Some(kim.id.clone()));
    assert_eq!(id(ACME, "KIM").await, Some(kim.id));
    assert_eq!(id(GLOBEX, "kim").await, Some(other.id));
    for (org, username) in [(ACME, "sam"), (ACME, ""), ("nope", "kim")] {
        assert_eq!(id(org, username).await, None, "{org} {username}");
    }
}
conformance!(member_ids_are_found_by_username);

async fn usernames_are_unique_whatever_their_case(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let again = NewMember {
        organization_id: ACME.into(),
        username: "Kim".into(),
        email: "other@acme.example".into(),
        password_hash: None,
    };
    assert!(!s.ensure_member(&again).await.unwrap(), "Kim is kim");
    let kept = s.member_by_username(ACME, "kIM").await.unwrap().unwrap();
    assert_eq!((&kept.id, &kept.email), (&kim.id, &kim.email));
    // Unlocking by username finds the member in any case, too.
    s.lock_member(&kept.id).await.unwrap();
    assert!(s.set_member_locked(ACME, "KIM", false).await.unwrap());
}
conformance!(usernames_are_unique_whatever_their_case);

fn counted(failed_logins: i64, lockouts: i64) -> Option<FailedLogins> {
    Some(FailedLogins {
        failed_logins,
        lockouts,
    })
}

/// Counts `n` failed logins of the member.
async fn fail(s: &Subject, m: &MemberRecord, n: usize) {
    for _ in 0..n {
        s.count_failed_login(&m.id).await.unwrap().unwrap();
    }
}

async fn failed_logins_are_counted(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    for count in 1..=3 {
        assert_eq!(
            s.count_failed_login(&kim.id).await.unwrap(),
            counted(count, 0)
        );
    }
    let now = reload(s, &kim).await;
    assert_eq!((now.failed_logins, now.lockouts), (3, 0));
    assert!(!now.locked_at(NOW), "counting alone locks nobody");
    assert_same(&reload(s, &sam).await, &sam);

    let before = s.list_members(ACME).await.unwrap();
    assert_eq!(s.count_failed_login("nope").await.unwrap(), None);
    assert_same(&s.list_members(ACME).await.unwrap(), &before);
}
conformance!(failed_logins_are_counted);

async fn parallel_failed_logins_all_count(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let counts = at_once(20, |_| {
        let (db, id) = (s.db.clone(), kim.id.clone());
        async move { db.count_failed_login(&id).await.unwrap().unwrap() }
    })
    .await;
    let mut seen: Vec<i64> = counts.iter().map(|c| c.failed_logins).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<_>>(),
        "each sees its own count"
    );
    assert_eq!(reload(s, &kim).await.failed_logins, 20);
}
conformance!(parallel_failed_logins_all_count);

async fn failures_lock_for_a_while_at_the_limit(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    fail(s, &kim, 2).await;
    let before = reload(s, &kim).await;
    assert!(
        !s.lock_after_failures(&kim.id, 3, Some(NOW + 60))
            .await
            .unwrap(),
        "below the limit"
    );
    assert_same(&reload(s, &kim).await, &before);

    fail(s, &kim, 1).await;
    assert!(s
        .lock_after_failures(&kim.id, 3, Some(NOW + 60))
        .await
        .unwrap());
    let now = reload(s, &kim).await;
    let expected = MemberRecord {
        failed_logins: 0,
        lockouts: 1,
        locked_until: Some(NOW + 60),
        ..before.clone()
    };
    assert_same(&now, &expected);
    assert!(
        !now.locked,
        "a lock for a while is not an administrator's lock"
    );
    assert!(now.locked_at(NOW) && now.locked_at(NOW + 59));
    assert!(!now.locked_at(NOW + 60), "locked_until is over");
    assert!(
        !s.lock_after_failures(&kim.id, 3, Some(NOW + 90))
            .await
            .unwrap(),
        "the count started again"
    );

    // The next lock is counted too; more failures than the limit lock as well.
    for count in 1..=4 {
        assert_eq!(
            s.count_failed_login(&kim.id).await.unwrap(),
            counted(count, 1)
        );
    }
    assert!(s
        .lock_after_failures(&kim.id, 3, Some(NOW + 200))
        .await
        .unwrap());
    let now = reload(s, &kim).await;
    assert_eq!(
        (
            now.failed_logins,
            now.lockouts,
            now.locked_until,
            now.locked
        ),
        (0, 2, Some(NOW + 200), false)
    );
    assert_eq!(s.count_failed_login(&kim.id).await.unwrap(), counted(1, 2));

    // A lock for a while keeps an administrator's lock.
    s.lock_member(&sam.id).await.unwrap();
    fail(s, &sam, 1).await;
    assert!(s
        .lock_after_failures(&sam.id, 1, Some(NOW + 60))
        .await
        .unwrap());
    let now = reload(s, &sam).await;
    assert!(now.locked && now.locked_at(NOW + 61));

    assert!(!s
        .lock_after_failures("nope", 0, Some(NOW + 60))
        .await
        .unwrap());
}
conformance!(failures_lock_for_a_while_at_the_limit);

async fn failures_lock_until_unlocked(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    fail(s, &kim, 2).await;
    assert!(!s.lock_after_failures(&kim.id, 3, None).await.unwrap());
    assert!(!reload(s, &kim).await.locked);

    fail(s, &kim, 1).await;
    let before = reload(s, &kim).await;
    assert!(s.lock_after_failures(&kim.id, 3, None).await.unwrap());
    let now = reload(s, &kim).await;
    let expected = MemberRecord {
        failed_logins: 0,
        lockouts: 1,
        locked: true,
        ..before
    };
    assert_same(&now, &expected);
    assert!(now.locked_at(NOW) && now.locked_at(i64::MAX));
    assert!(!s.lock_after_failures(&kim.id, 3, None).await.unwrap());

    fail(s, &kim, 3).await;
    assert!(s.lock_after_failures(&kim.id, 3, None).await.unwrap());
    let now = reload(s, &kim).await;
    assert_eq!((now.failed_logins, now.lockouts, now.locked), (0, 2, true));
    assert_same(&reload(s, &sam).await, &sam);
    assert!(!s.lock_after_failures("nope", 0, None).await.unwrap());
}
conformance!(failures_lock_until_unlocked);

async fn parallel_locks_let_one_win(s: &Subject) {
    let kim = acme_and_kim(s).await;
    for (round, until) in [Some(NOW + 60), None].into_iter().enumerate() {
        fail(s, &kim, 3).await;
        let locked = at_once(10, |_| {
            let (db, id) = (s.db.clone(), kim.id.clone());
            async move { db.lock_after_failures(&id, 3, until).await.unwrap() }
        })
        .await;
        assert_eq!(winners(&locked), 1, "until {until:?}: {locked:?}");
        let now = reload(s, &kim).await;
        assert_eq!(
            (now.failed_logins, now.lockouts),
            (0, round as i64 + 1),
            "until {until:?}"
        );
    }
}
conformance!(parallel_locks_let_one_win);

async fn record_login_resets_failures_and_keeps_the_first_login(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    fail(s, &kim, 2).await;
    s.record_login(&kim.id, NOW).await.unwrap();
    let now = reload(s, &kim).await;
    assert_eq!((now.failed_logins, now.first_login_at), (0, Some(NOW)));

    // Locks for a while start again too.
    fail(s, &kim, 1).await;
    assert!(s
        .lock_after_failures(&kim.id, 1, Some(NOW + 200))
        .await
        .unwrap());
    fail(s, &kim, 1).await;
    assert!(s
        .lock_after_failures(&kim.id, 1, Some(NOW + 400))
        .await
        .unwrap());
    fail(s, &kim, 1).await;
    assert_eq!(reload(s, &kim).await.lockouts, 2);
    s.record_login(&kim.id, NOW + 100).await.unwrap();
    let now = reload(s, &kim).await;
    let expected = MemberRecord {
        first_login_at: Some(NOW),
        ..kim.clone()
    };
    assert_same(&now, &expected);
    assert!(!now.locked_at(NOW + 100));
    assert_eq!(s.count_failed_login(&kim.id).await.unwrap(), counted(1, 0));
    assert_same(&reload(s, &sam).await, &sam);
}
conformance!(record_login_resets_failures_and_keeps_the_first_login);

async fn requirements_start_once_each(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    let since = |m: MemberRecord| (m.mfa_required_since, m.password_renewal_required_since);
    s.start_requirements(&kim.id, NOW, false, false)
        .await
        .unwrap();
    assert_same(&reload(s, &kim).await, &kim);

    s.start_requirements(&kim.id, NOW, true, false)
        .await
        .unwrap();
    assert_eq!(since(reload(s, &kim).await), (Some(NOW), None));
    s.start_requirements(&kim.id, NOW + 10, true, true)
        .await
        .unwrap();
    assert_eq!(
        since(reload(s, &kim).await),
        (Some(NOW), Some(NOW + 10)),
        "a started grace period is kept"
    );
    for (mfa, renewal) in [(true, true), (false, false), (true, false), (false, true)] {
        s.start_requirements(&kim.id, NOW + 20, mfa, renewal)
            .await
            .unwrap();
        assert_eq!(
            since(reload(s, &kim).await),
            (Some(NOW), Some(NOW + 10)),
            "{mfa} {renewal}"
        );
    }
    let expected = MemberRecord {
        mfa_required_since: Some(NOW),
        password_renewal_required_since: Some(NOW + 10),
        ..kim.clone()
    };
    assert_same(&reload(s, &kim).await, &expected);
    assert_same(&reload(s, &sam).await, &sam);

    s.start_requirements(&sam.id, NOW + 30, false, true)
        .await
        .unwrap();
    assert_eq!(since(reload(s, &sam).await), (None, Some(NOW + 30)));
    s.start_requirements("nope", NOW, true, true).await.unwrap();
}
conformance!(requirements_start_once_each);

async fn lock_member_locks_only_that_member(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    fail(s, &kim, 1).await;
    s.record_login(&kim.id, NOW).await.unwrap();
    fail(s, &kim, 1).await;
    s.lock_member(&kim.id).await.unwrap();
    let mut expected = kim.clone();
    expected.locked = true;
    expected.failed_logins = 1;
    expected.first_login_at = Some(NOW);
    assert_same(&reload(s, &kim).await, &expected);
    assert_same(&reload(s, &sam).await, &sam);
    s.lock_member("nope").await.unwrap();
}
conformance!(lock_member_locks_only_that_member);

async fn set_member_locked_by_username(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    s.record_login(&kim.id, NOW).await.unwrap();
    s.start_requirements(&kim.id, NOW, true, true)
        .await
        .unwrap();
    s.set_password(&kim.id, "new-hash", NOW).await.unwrap();
    fail(s, &kim, 1).await;
    assert!(s
        .lock_after_failures(&kim.id, 1, Some(NOW + 60))
        .await
        .unwrap());
    fail(s, &kim, 2).await;
    let before = reload(s, &kim).await;
    assert_eq!(
        (before.failed_logins, before.lockouts, before.locked_until),
        (2, 1, Some(NOW + 60))
    );

    assert!(s.set_member_locked(ACME, "kim", true).await.unwrap());
    let expected = MemberRecord {
        locked: true,
        ..before.clone()
    };
    assert_same(&reload(s, &kim).await, &expected);

    assert!(s.set_member_locked(ACME, "kim", false).await.unwrap());
    let now = reload(s, &kim).await;
    let expected = MemberRecord {
        locked: false,
        failed_logins: 0,
        lockouts: 0,
        locked_until: None,
        mfa_required_since: None,
        password_renewal_required_since: None,
        ..before.clone()
    };
    assert_same(&now, &expected);
    assert!(!now.locked_at(NOW));
    // The next login starts new grace periods.
    s.start_requirements(&kim.id, NOW + 500, true, true)
        .await
        .unwrap();
    let now = reload(s, &kim).await;
    assert_eq!(
        (now.mfa_required_since, now.password_renewal_required_since),
        (Some(NOW + 500), Some(NOW + 500))
    );

    // Unlocking ends a lock after failures until unlocked too.
    fail(s, &kim, 1).await;
    assert!(s.lock_after_failures(&kim.id, 1, None).await.unwrap());
    assert!(reload(s, &kim).await.locked_at(NOW));
    assert!(s.set_member_locked(ACME, "kim", false).await.unwrap());
    let now = reload(s, &kim).await;
    assert!(!now.locked_at(NOW));
    assert_eq!((now.failed_logins, now.lockouts), (0, 0));

    assert!(!s.set_member_locked(ACME, "nobody", true).await.unwrap());
    assert!(!s.set_member_locked(GLOBEX, "kim", true).await.unwrap());
    assert!(!s.set_member_locked(ACME, "nobody", false).await.unwrap());
    assert_same(&reload(s, &sam).await, &sam);
}
conformance!(set_member_locked_by_username);

async fn set_password_records_when(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    s.set_password(&kim.id, "new-hash", NOW).await.unwrap();
    let mut expected = kim.clone();
    expected.password_hash = Some("new-hash".into());
    expected.password_changed_at = Some(NOW);
    assert_same(&reload(s, &kim).await, &expected);
    assert_same(&reload(s, &sam).await, &sam);
}
conformance!(set_password_records_when);

async fn totp_activation_moves_the_pending_secret(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    assert_eq!(s.totp_pending(&kim.id).await.unwrap(), None);
    assert_eq!(s.totp_pending("nope").await.unwrap(), None);

    s.set_totp_pending(&kim.id, "FIRSTSECRET").await.unwrap();
    s.set_totp_pending(&kim.id, "SECRETONE").await.unwrap();
    assert_eq!(
        s.totp_pending(&kim.id).await.unwrap().as_deref(),
        Some("SECRETONE")
    );
    assert_eq!(
        reload(s, &kim).await.totp_secret,
        None,
        "pending is not active"
    );

    let codes = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    s.activate_totp(&kim.id, 41, &codes(&["a", "b"]))
        .await
        .unwrap();
    let now = reload(s, &kim).await;
    assert_eq!(now.totp_secret.as_deref(), Some("SECRETONE"));
    assert_eq!(now.totp_last_step, Some(41));
    assert_eq!(s.totp_pending(&kim.id).await.unwrap(), None);
    for (code, has) in [("a", true), ("b", true), ("c", false)] {
        assert_eq!(
            s.has_recovery_code(&kim.id, code).await.unwrap(),
            has,
            "{code}"
        );
    }
    assert!(
        !s.has_recovery_code(&sam.id, "a").await.unwrap(),
        "codes are per member"
    );

    // A new authenticator replaces the secret and all the recovery codes.
    s.set_totp_pending(&kim.id, "SECRETTWO").await.unwrap();
    assert_eq!(
        reload(s, &kim).await.totp_secret.as_deref(),
        Some("SECRETONE")
    );
    s.activate_totp(&kim.id, 99, &codes(&["c", "d"]))
        .await
        .unwrap();
    let now = reload(s, &kim).await;
    assert_eq!(now.totp_secret.as_deref(), Some("SECRETTWO"));
    assert_eq!(now.totp_last_step, Some(99));
    for (code, has) in [("a", false), ("b", false), ("c", true), ("d", true)] {
        assert_eq!(
            s.has_recovery_code(&kim.id, code).await.unwrap(),
            has,
            "{code}"
        );
    }
    assert_same(&reload(s, &sam).await, &sam);
}
conformance!(totp_activation_moves_the_pending_secret);

async fn recovery_codes_are_single_use(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    let codes: Vec<String> = ["a", "b"].map(String::from).into();
    s.set_totp_pending(&kim.id, "SECRET").await.unwrap();
    s.activate_totp(&kim.id, 1, &codes).await.unwrap();
    s.set_totp_pending(&sam.id, "SECRET").await.unwrap();
    s.activate_totp(&sam.id, 1, &codes).await.unwrap();

    assert!(s.has_recovery_code(&kim.id, "a").await.unwrap());
    assert!(
        s.has_recovery_code(&kim.id, "a").await.unwrap(),
        "has uses nothing up"
    );
    assert!(s.use_recovery_code(&kim.id, "a", NOW).await.unwrap());
    assert!(!s.has_recovery_code(&kim.id, "a").await.unwrap());
    assert!(!s.use_recovery_code(&kim.id, "a", NOW).await.unwrap());
    assert!(!s.use_recovery_code(&kim.id, "zzz", NOW).await.unwrap());
    assert!(!s.use_recovery_code("nope", "b", NOW).await.unwrap());
    assert!(s.has_recovery_code(&kim.id, "b").await.unwrap());
    assert!(
        s.has_recovery_code(&sam.id, "a").await.unwrap(),
        "sam's own a is unused"
    );

    let used = at_once(10, |_| {
        let (db, id) = (s.db.clone(), kim.id.clone());
        async move { db.use_recovery_code(&id, "b", NOW).await.unwrap() }
    })
    .await;
    assert_eq!(winners(&used), 1, "{used:?}");
    assert!(!s.has_recovery_code(&kim.id, "b").await.unwrap());
}
conformance!(recovery_codes_are_single_use);

// --- Flows ---------------------------------------------------------------------------------

async fn inserted_flows_read_back_equal(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let mut flows = vec![bare_flow("bare")];
    for (i, state) in STATES.into_iter().enumerate() {
        flows.push(full_flow(&format!("full-{i}"), "kim", Some(&kim.id), state));
        let mut unknown = full_flow(&format!("unknown-{i}"), "nobody", None, state);
        unknown.code = None;
        unknown.resend_available_at = None;
        unknown.version = 7;
        flows.push(unknown);
    }
    for flow in &flows {
        s.insert_flow(flow).await.unwrap();
    }
    for flow in &flows {
        let read = read_flow(s, &flow.id).await;
        assert_eq!(&read, flow, "{} reads back as inserted", flow.id);
    }
    assert_eq!(s.flow("nope").await.unwrap(), None);
    // A new flow has no replacement, whatever the copy says.
    let claims_one = Flow {
        replaced_by: Some("bare".into()),
        ..bare_flow("new")
    };
    s.insert_flow(&claims_one).await.unwrap();
    assert_eq!(read_flow(s, "new").await, bare_flow("new"));
}
conformance!(inserted_flows_read_back_equal);

async fn saved_flows_read_back_equal(s: &Subject) {
    let kim = acme_and_kim(s).await;
    s.insert_flow(&bare_flow("f")).await.unwrap();
    let mut flow = read_flow(s, "f").await;
    for (i, state) in STATES.into_iter().enumerate() {
        let version = flow.version;
        flow = Flow {
            version,
            ..full_flow("f", "kim", Some(&kim.id), state)
        };
        flow.codes_sent = i as i64;
        assert!(s.save_flow(&mut flow).await.unwrap());
        assert_eq!(flow.version, version + 1);
        assert_eq!(read_flow(s, "f").await, flow, "{state:?} with a code");

        flow.code = None;
        flow.username = None;
        flow.member_id = None;
        flow.resend_available_at = None;
        assert!(s.save_flow(&mut flow).await.unwrap());
        assert_eq!(read_flow(s, "f").await, flow, "{state:?} without");
    }
}
conformance!(saved_flows_read_back_equal);

async fn save_flow_refuses_a_stale_copy(s: &Subject) {
    acme_and_kim(s).await;
    s.insert_flow(&bare_flow("f")).await.unwrap();
    let mut mine = read_flow(s, "f").await;
    let mut theirs = read_flow(s, "f").await;
    let start = mine.version;

    mine.username = Some("kim".into());
    mine.state = FlowState::ChooseMethod;
    assert!(s.save_flow(&mut mine).await.unwrap());
    assert_eq!(mine.version, start + 1);
    assert_eq!(read_flow(s, "f").await, mine);

    theirs.username = Some("sam".into());
    theirs.state = FlowState::Complete;
    let stale = theirs.clone();
    assert!(!s.save_flow(&mut theirs).await.unwrap());
    assert_eq!(theirs, stale, "a refused save leaves the copy as it was");
    assert_eq!(read_flow(s, "f").await, mine, "and the stored flow too");

    // Read again and redo: it lands.
    let mut theirs = read_flow(s, "f").await;
    theirs.username = Some("sam".into());
    assert!(s.save_flow(&mut theirs).await.unwrap());
    assert_eq!(theirs.version, start + 2);
    assert!(s.save_flow(&mut theirs).await.unwrap());
    assert_eq!(read_flow(s, "f").await.version, start + 3);

    let mut ghost = bare_flow("ghost");
    assert!(!s.save_flow(&mut ghost).await.unwrap());
    assert_eq!(s.flow("ghost").await.unwrap(), None, "a save never inserts");
}
conformance!(save_flow_refuses_a_stale_copy);

async fn parallel_saves_of_one_version_let_one_win(s: &Subject) {
    acme_and_kim(s).await;
    s.insert_flow(&bare_flow("f")).await.unwrap();
    let read = read_flow(s, "f").await;
    let saved = at_once(10, |i| {
        let db = s.db.clone();
        let mut copy = read.clone();
        copy.codes_sent = i as i64 + 1;
        async move {
            let won = db.save_flow(&mut copy).await.unwrap();
            (won, copy)
        }
    })
    .await;
    let won: Vec<bool> = saved.iter().map(|(won, _)| *won).collect();
    assert_eq!(winners(&won), 1, "{won:?}");
    let (_, winner) = saved.iter().find(|(won, _)| *won).unwrap();
    assert_eq!(winner.version, read.version + 1);
    assert_eq!(&read_flow(s, "f").await, winner);
    for (_, loser) in saved.iter().filter(|(won, _)| !won) {
        assert_eq!(loser.version, read.version);
    }
}
conformance!(parallel_saves_of_one_version_let_one_win);

async fn forget_other_codes_clears_only_the_others(s: &Subject) {
    let kim = acme_and_kim(s).await;
    org(s, GLOBEX, "globex").await;
    let flows = [
        full_flow("keep", "kim", Some(&kim.id), FlowState::EmailCode),
        full_flow("other", "kim", Some(&kim.id), FlowState::EmailCode),
        full_flow("older", "kim", Some(&kim.id), FlowState::SecondFactor),
        full_flow("sams", "sam", None, FlowState::EmailCode),
        Flow {
            organization_id: GLOBEX.into(),
            ..full_flow("globex", "kim", None, FlowState::EmailCode)
        },
    ];
    // Codes are given by saving, as the login steps do: this check does not depend on
    // insert_flow storing one.
    for flow in &flows {
        s.insert_flow(&Flow {
            code: None,
            ..flow.clone()
        })
        .await
        .unwrap();
        assert!(s.save_flow(&mut flow.clone()).await.unwrap());
    }
    let mut before = Vec::new();
    for flow in &flows {
        before.push(read_flow(s, &flow.id).await);
    }
    assert!(before.iter().all(|f| f.code.is_some()));

    s.forget_other_codes(ACME, "kim", "keep").await.unwrap();
    for old in &before {
        let now = read_flow(s, &old.id).await;
        if old.id == "other" || old.id == "older" {
            let expected = Flow {
                code: None,
                version: old.version + 1,
                ..old.clone()
            };
            assert_eq!(now, expected, "{} forgets its code", old.id);
        } else {
            assert_eq!(&now, old, "{} is left alone", old.id);
        }
    }

    // A copy of a forgotten flow read before is stale now.
    let mut stale = before[1].clone();
    assert!(!s.save_flow(&mut stale).await.unwrap());
    assert_eq!(read_flow(s, "other").await.code, None);
    // And the kept one still saves.
    let mut keep = before[0].clone();
    assert!(s.save_flow(&mut keep).await.unwrap());
}
conformance!(forget_other_codes_clears_only_the_others);

async fn an_unknown_flow_state_is_corrupt(s: &Subject) {
    acme_and_kim(s).await;
    s.raw(&format!(
        "INSERT INTO flows (id, organization_id, state, created_at, expires_at) \
         VALUES ('odd', '{ACME}', 'finished', {NOW}, {NOW})"
    ))
    .await;
    match s.flow("odd").await {
        Err(Error::Corrupt { what, value }) => {
            assert_eq!((what, value.as_str()), ("flow state", "finished"));
        }
        other => panic!("expected Error::Corrupt, got {other:?}"),
    }
}
conformance!(an_unknown_flow_state_is_corrupt);

async fn rows_from_before_languages_are_english(s: &Subject) {
    let kim = acme_and_kim(s).await;
    // Written as a server from before languages wrote them: no language column given.
    s.raw(&format!(
        "INSERT INTO flows (id, organization_id, state, created_at, expires_at) \
         VALUES ('old', '{ACME}', 'username', {NOW}, {NOW})"
    ))
    .await;
    s.raw(&format!(
        "INSERT INTO sessions (token_hash, member_id, created_at, expires_at) \
         VALUES ('old', '{}', {NOW}, {})",
        kim.id,
        NOW + 60
    ))
    .await;
    assert_eq!(read_flow(s, "old").await.language, Language::En);
    assert_eq!(
        s.session("old", NOW).await.unwrap().unwrap().language,
        Language::En
    );
}
conformance!(rows_from_before_languages_are_english);

async fn an_unknown_language_is_corrupt(s: &Subject) {
    let kim = acme_and_kim(s).await;
    s.raw(&format!(
        "INSERT INTO flows (id, organization_id, state, created_at, expires_at, language) \
         VALUES ('odd', '{ACME}', 'username', {NOW}, {NOW}, 'fr-CA')"
    ))
    .await;
    s.raw(&format!(
        "INSERT INTO sessions (token_hash, member_id, created_at, expires_at, language) \
         VALUES ('odd', '{}', {NOW}, {}, 'de')",
        kim.id,
        NOW + 60
    ))
    .await;
    match s.flow("odd").await {
        Err(Error::Corrupt { what, value }) => {
            assert_eq!((what, value.as_str()), ("language", "fr-CA"));
        }
        other => panic!("expected Error::Corrupt, got {other:?}"),
    }
    match s.session("odd", NOW).await {
        Err(Error::Corrupt { what, value }) => {
            assert_eq!((what, value.as_str()), ("language", "de"));
        }
        other => panic!("expected Error::Corrupt, got {other:?}"),
    }
}
conformance!(an_unknown_language_is_corrupt);

async fn replacements_compare_and_swap(s: &Subject) {
    acme_and_kim(s).await;
    for id in ["old", "other"] {
        s.insert_flow(&bare_flow(id)).await.unwrap();
    }
    let other = read_flow(s, "other").await;
    let replace = |previous: Option<&'static str>, replacement: &'static str| async move {
        s.set_replacement("old", previous, replacement)
            .await
            .unwrap()
    };
    let replaced_by = || async { read_flow(s, "old").await.replaced_by };
    assert_eq!(replaced_by().await, None);
    assert!(!replace(Some("a"), "b").await, "there is none yet");
    assert_eq!(replaced_by().await, None);
    assert!(replace(None, "a").await);
    assert_eq!(replaced_by().await.as_deref(), Some("a"));
    assert!(!replace(None, "b").await, "replaced already");
    assert!(!replace(Some("b"), "c").await, "stale");
    assert_eq!(replaced_by().await.as_deref(), Some("a"));
    assert!(replace(Some("a"), "b").await);
    assert_eq!(replaced_by().await.as_deref(), Some("b"));

    // Only replaced_by changes, and only on that flow.
    let old = read_flow(s, "old").await;
    let expected = Flow {
        replaced_by: Some("b".into()),
        version: old.version,
        ..bare_flow("old")
    };
    assert_eq!(old, expected);
    assert_eq!(read_flow(s, "other").await, other);
    assert!(!s.set_replacement("nope", None, "a").await.unwrap());
    assert_eq!(s.flow("nope").await.unwrap(), None);

    // A save of the flow leaves its replacement as it is.
    let mut copy = old.clone();
    copy.replaced_by = None;
    copy.username = Some("kim".into());
    assert!(s.save_flow(&mut copy).await.unwrap());
    let saved = read_flow(s, "old").await;
    assert_eq!(saved.username.as_deref(), Some("kim"));
    assert_eq!(saved.replaced_by.as_deref(), Some("b"));
}
conformance!(replacements_compare_and_swap);

async fn parallel_replacements_let_one_win(s: &Subject) {
    acme_and_kim(s).await;
    s.insert_flow(&bare_flow("old")).await.unwrap();
    let done = at_once(10, |i| {
        let db = s.db.clone();
        async move {
            let replacement = format!("new-{i}");
            let won = db.set_replacement("old", None, &replacement).await.unwrap();
            (won, replacement)
        }
    })
    .await;
    let won: Vec<bool> = done.iter().map(|(won, _)| *won).collect();
    assert_eq!(winners(&won), 1, "{won:?}");
    let (_, winner) = done.iter().find(|(won, _)| *won).unwrap();
    assert_eq!(read_flow(s, "old").await.replaced_by.as_ref(), Some(winner));
}
conformance!(parallel_replacements_let_one_win);

async fn deleted_flows_are_gone(s: &Subject) {
    acme_and_kim(s).await;
    for id in ["a", "b"] {
        s.insert_flow(&bare_flow(id)).await.unwrap();
    }
    s.delete_flow("a").await.unwrap();
    assert_eq!(s.flow("a").await.unwrap(), None);
    assert_eq!(read_flow(s, "b").await, bare_flow("b"));
    s.delete_flow("a").await.unwrap();
    s.delete_flow("nope").await.unwrap();
    assert_eq!(read_flow(s, "b").await, bare_flow("b"));
    // Its ID can start a new flow.
    s.insert_flow(&bare_flow("a")).await.unwrap();
    assert_eq!(read_flow(s, "a").await, bare_flow("a"));
}
conformance!(deleted_flows_are_gone);

// --- Sessions ------------------------------------------------------------------------------

async fn sessions_live_until_they_expire(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    s.insert_session("t", &kim.id, NOW - 30, NOW + 60, Language::En)
        .await
        .unwrap();
    s.insert_session("u", &sam.id, NOW - 7, NOW + 1, Language::Fr)
        .await
        .unwrap();
    let live = Some(SessionRecord {
        member_id: kim.id.clone(),
        created_at: NOW - 30,
        expires_at: NOW + 60,
        language: Language::En,
    });
    assert_eq!(s.session("t", NOW).await.unwrap(), live);
    let sams = SessionRecord {
        member_id: sam.id.clone(),
        created_at: NOW - 7,
        expires_at: NOW + 1,
        language: Language::Fr,
    };
    assert_eq!(s.session("u", NOW).await.unwrap(), Some(sams));
    assert_eq!(s.session("t", NOW + 59).await.unwrap(), live);
    assert_eq!(
        s.session("t", NOW + 60).await.unwrap(),
        None,
        "expires_at is over"
    );
    assert_eq!(s.session("t", NOW + 61).await.unwrap(), None);
    assert_eq!(s.session("other", NOW).await.unwrap(), None);

    s.delete_session("t").await.unwrap();
    assert_eq!(s.session("t", NOW).await.unwrap(), None);
    s.delete_session("t").await.unwrap();
}
conformance!(sessions_live_until_they_expire);

async fn end_other_sessions_keeps_the_given_one(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    for token in ["k1", "k2", "k3"] {
        s.insert_session(token, &kim.id, NOW, NOW + 60, Language::En)
            .await
            .unwrap();
    }
    s.insert_session("s1", &sam.id, NOW, NOW + 60, Language::En)
        .await
        .unwrap();
    s.end_other_sessions(&kim.id, "k2").await.unwrap();
    for (token, live) in [("k1", false), ("k2", true), ("k3", false), ("s1", true)] {
        let found = s.session(token, NOW).await.unwrap();
        assert_eq!(found.is_some(), live, "{token}");
    }
    // Keeping a token of another member keeps none of this one's.
    s.insert_session("k4", &kim.id, NOW, NOW + 60, Language::En)
        .await
        .unwrap();
    s.end_other_sessions(&kim.id, "s1").await.unwrap();
    assert_eq!(s.session("k2", NOW).await.unwrap(), None);
    assert_eq!(s.session("k4", NOW).await.unwrap(), None);
    assert!(s.session("s1", NOW).await.unwrap().is_some());
}
conformance!(end_other_sessions_keeps_the_given_one);

// --- Outbox --------------------------------------------------------------------------------

async fn outbox_is_newest_first(s: &Subject) {
    assert!(s.emails(None).await.unwrap().is_empty());
    let sent = [
        ("kim@example.com", "one", NOW),
        ("sam@example.com", "two", NOW + 5),
        ("kim@example.com", "three", NOW + 5),
    ];
    for (to, subject, at) in sent {
        s.enqueue_email(to, subject, &format!("body of {subject}\nline 2"), at)
            .await
            .unwrap();
    }
    let all = s.emails(None).await.unwrap();
    let summary: Vec<_> = all
        .iter()
        .map(|e| (e.recipient.as_str(), e.subject.as_str(), e.created_at))
        .collect();
    assert_eq!(
        summary,
        sent.iter().rev().copied().collect::<Vec<_>>(),
        "newest (last stored) first"
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(all[0].body, "body of three\nline 2");
    assert!(
        all.iter().all(|e| e.sent_at.is_none() && e.attempts == 0),
        "queued: not sent, not tried"
    );

    let kims = s.emails(Some("kim@example.com")).await.unwrap();
    assert_eq!(kims, [all[0].clone(), all[2].clone()]);
    assert!(s
        .emails(Some("nobody@example.com"))
        .await
        .unwrap()
        .is_empty());
}
conformance!(outbox_is_newest_first);

async fn outbox_shows_at_most_a_hundred(s: &Subject) {
    for i in 0..105 {
        let to = if i % 2 == 0 {
            "even@x.test"
        } else {
            "odd@x.test"
        };
        s.enqueue_email(to, &format!("mail {i}"), "body", NOW + i)
            .await
            .unwrap();
    }
    let all = s.emails(None).await.unwrap();
    assert_eq!(all.len(), 100);
    assert_eq!(all[0].subject, "mail 104");
    assert_eq!(all[99].subject, "mail 5");
    let even = s.emails(Some("even@x.test")).await.unwrap();
    assert_eq!(even.len(), 53);
    assert_eq!(even[0].subject, "mail 104");
}
conformance!(outbox_shows_at_most_a_hundred);

const LEASE: i64 = 60;

async fn enqueue(s: &Subject, subject: &str, at: i64) {
    s.enqueue_email("kim@example.com", subject, "body", at)
        .await
        .unwrap();
}

/// Claims the email due at `now` for `LEASE` seconds.
async fn claim(s: &Subject, now: i64) -> Option<StoredEmail> {
    s.claim_email(now, LEASE).await.unwrap()
}

fn subject(email: &Option<StoredEmail>) -> Option<&str> {
    email.as_ref().map(|e| e.subject.as_str())
}

async fn claims_take_the_oldest_due_email(s: &Subject) {
    assert_eq!(claim(s, NOW).await, None, "an empty outbox");
    for (name, at) in [
        ("b", NOW + 2),
        ("a", NOW),
        ("c", NOW + 2),
        ("later", NOW + 10),
    ] {
        enqueue(s, name, at).await;
    }
    assert_eq!(claim(s, NOW - 1).await, None, "none due yet");
    let first = claim(s, NOW + 5).await;
    assert_eq!(subject(&first), Some("a"), "the oldest first");
    let first = first.unwrap();
    assert_eq!((first.sent_at, first.attempts), (None, 1), "one try");
    let listed = s.emails(None).await.unwrap();
    assert_eq!(listed.iter().find(|e| e.id == first.id), Some(&first));
    assert_eq!(subject(&claim(s, NOW + 5).await), Some("b"));
    assert_eq!(subject(&claim(s, NOW + 5).await), Some("c"));
    assert_eq!(
        claim(s, NOW + 5).await,
        None,
        "the rest are claimed or not due"
    );
    assert_eq!(subject(&claim(s, NOW + 10).await), Some("later"));
}
conformance!(claims_take_the_oldest_due_email);

async fn claims_last_their_lease(s: &Subject) {
    enqueue(s, "a", NOW).await;
    let first = claim(s, NOW).await.unwrap();
    assert_eq!(claim(s, NOW).await, None);
    assert_eq!(
        claim(s, NOW + LEASE - 1).await,
        None,
        "claimed until the lease ends"
    );
    let again = claim(s, NOW + LEASE).await.unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 2), "taken over");
    // Each claim has its own lease.
    let at = NOW + LEASE;
    assert_eq!(claim(s, at + LEASE - 1).await, None);
    let third = s.claim_email(at + LEASE, 10).await.unwrap().unwrap();
    assert_eq!((third.id, third.attempts), (first.id, 3));
    assert_eq!(claim(s, at + LEASE + 9).await, None);
    assert_eq!(claim(s, at + LEASE + 10).await.unwrap().attempts, 4);
}
conformance!(claims_last_their_lease);

async fn failed_emails_are_due_again_at_retry_at(s: &Subject) {
    enqueue(s, "a", NOW).await;
    enqueue(s, "b", NOW + 1).await;
    let a = claim(s, NOW + 1).await.unwrap();
    assert_eq!(a.subject, "a");
    s.email_failed(a.id, NOW + 30).await.unwrap();
    assert_eq!(subject(&claim(s, NOW + 1).await), Some("b"));
    assert_eq!(claim(s, NOW + 29).await, None, "not due before retry_at");
    let retried = claim(s, NOW + 30).await.unwrap();
    assert_eq!((retried.id, retried.attempts), (a.id, 2));

    // A failure releases the claim, even within its lease.
    s.email_failed(a.id, NOW + 31).await.unwrap();
    let retried = claim(s, NOW + 31).await.unwrap();
    assert_eq!((retried.id, retried.attempts), (a.id, 3));
    let listed = s.emails(None).await.unwrap();
    assert_eq!(listed.iter().find(|e| e.id == a.id), Some(&retried));
    assert!(listed.iter().all(|e| e.sent_at.is_none()));
    s.email_failed(a.id + 1000, NOW).await.unwrap();
}
conformance!(failed_emails_are_due_again_at_retry_at);

async fn sent_emails_are_not_claimed_again(s: &Subject) {
    enqueue(s, "a", NOW).await;
    enqueue(s, "b", NOW).await;
    let a = claim(s, NOW).await.unwrap();
    s.email_sent(a.id, NOW + 3).await.unwrap();
    let b = claim(s, NOW + 10 * LEASE).await.unwrap();
    assert_eq!(b.subject, "b", "a is sent");
    s.email_failed(b.id, NOW + 10 * LEASE).await.unwrap();
    let b = claim(s, NOW + 10 * LEASE).await.unwrap();
    s.email_sent(b.id, NOW + 10 * LEASE + 4).await.unwrap();
    assert_eq!(claim(s, NOW + 1_000_000).await, None);

    // The outbox still lists them, sent.
    let listed = s.emails(None).await.unwrap();
    let sent = |e: &StoredEmail| (e.subject.clone(), e.sent_at, e.attempts);
    assert_eq!(
        listed.iter().map(sent).collect::<Vec<_>>(),
        [
            ("b".to_string(), Some(NOW + 10 * LEASE + 4), 2),
            ("a".to_string(), Some(NOW + 3), 1),
        ]
    );
    s.email_sent(a.id + 1000, NOW).await.unwrap();
}
conformance!(sent_emails_are_not_claimed_again);

async fn parallel_claims_take_each_email_once(s: &Subject) {
    let claim_at_once = |now: i64| {
        at_once(20, move |_| {
            let db = s.db.clone();
            async move { db.claim_email(now, LEASE).await.unwrap() }
        })
    };
    // Open the pool's connections first (nothing is due), so that the claims below meet in
    // the database rather than queue for a connection.
    assert!(claim_at_once(NOW).await.iter().all(Option::is_none));
    // A lost race shows only now and then: several rounds, each over 5 new emails.
    for round in 1..=10 {
        let now = NOW + round;
        for i in 0..5 {
            enqueue(s, &format!("mail {round}.{i}"), now).await;
        }
        let claimed = claim_at_once(now).await;
        let mut ids: Vec<i64> = claimed.iter().flatten().map(|e| e.id).collect();
        ids.sort_unstable();
        let mut due: Vec<i64> = s
            .emails(None)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.sent_at.is_none())
            .map(|e| e.id)
            .collect();
        due.sort_unstable();
        let got: Vec<_> = claimed.iter().map(subject).collect();
        assert_eq!(
            ids, due,
            "round {round}: each email once, the rest None: {got:?}"
        );
        assert!(claimed.iter().flatten().all(|e| e.attempts == 1));
        for id in ids {
            s.email_sent(id, now).await.unwrap();
        }
    }
}
conformance!(parallel_claims_take_each_email_once);

async fn a_claim_that_meets_another_takes_the_next_email(s: &Subject) {
    enqueue(s, "a", NOW).await;
    enqueue(s, "b", NOW).await;
    let a = s.emails(None).await.unwrap()[1].clone();
    assert_eq!(a.subject, "a");
    // Another worker claims a; its claim is not committed yet when this one starts.
    let other = format!(
        "UPDATE outbox SET claimed_until = {}, attempts = attempts + 1 WHERE id = {}",
        NOW + LEASE,
        a.id
    );
    let db = s.db.clone();
    let mine = s
        .while_uncommitted(
            &other,
            async move { db.claim_email(NOW, LEASE).await.unwrap() },
        )
        .await;
    assert_eq!(subject(&mine), Some("b"), "b is due and nobody claimed it");
}
conformance!(a_claim_that_meets_another_takes_the_next_email);

// --- Rate limits ---------------------------------------------------------------------------

async fn hits_count_within_a_window(s: &Subject) {
    let hit = |key: &'static str, at: i64| async move { s.hit(key, at, 60).await.unwrap() };
    let counted = |hits, window_start| Hit { hits, window_start };
    assert_eq!(hit("a", NOW).await, counted(1, NOW));
    assert_eq!(hit("a", NOW + 10).await, counted(2, NOW));
    assert_eq!(
        hit("b", NOW + 20).await,
        counted(1, NOW + 20),
        "keys are apart"
    );
    assert_eq!(hit("a", NOW + 59).await, counted(3, NOW));
    // The window of `a` ends 60 s after it started: the next hit starts a new one.
    assert_eq!(hit("a", NOW + 60).await, counted(1, NOW + 60));
    assert_eq!(hit("a", NOW + 61).await, counted(2, NOW + 60));
    assert_eq!(hit("b", NOW + 79).await, counted(2, NOW + 20));
    // A long pause starts the window at the hit, not at a multiple of the window.
    assert_eq!(hit("a", NOW + 1000).await, counted(1, NOW + 1000));
    assert_eq!(hit("b", NOW + 80).await, counted(1, NOW + 80));
}
conformance!(hits_count_within_a_window);

async fn parallel_hits_lose_no_update(s: &Subject) {
    let hits = at_once(50, |_| {
        let db = s.db.clone();
        async move { db.hit("k", NOW, 60).await.unwrap() }
    })
    .await;
    let mut counts: Vec<i64> = hits.iter().map(|h| h.hits).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<_>>());
    assert!(hits.iter().all(|h| h.window_start == NOW));
    assert_eq!(s.hit("k", NOW + 1, 60).await.unwrap().hits, 51);
}
conformance!(parallel_hits_lose_no_update);

fn sends(sent: i64) -> CodeSends {
    CodeSends {
        sent,
        last_sent_at: NOW + sent,
        available_at: NOW + 30 * sent,
    }
}

async fn code_sends_compare_and_swap(s: &Subject) {
    let get = |username: &'static str| async move { s.code_sends(ACME, username).await.unwrap() };
    let replace = |expected, new| async move {
        s.replace_code_sends(ACME, "kim", expected, new)
            .await
            .unwrap()
    };
    assert_eq!(get("kim").await, None);
    assert!(replace(None, sends(1)).await);
    assert_eq!(get("kim").await, Some(sends(1)));
    assert!(!replace(None, sends(9)).await, "there is one already");
    assert_eq!(get("kim").await, Some(sends(1)));

    assert!(replace(Some(sends(1)), sends(2)).await);
    assert_eq!(get("kim").await, Some(sends(2)));
    assert!(!replace(Some(sends(1)), sends(3)).await, "stale");
    assert_eq!(get("kim").await, Some(sends(2)));
    // Every field is compared, not just the count.
    let almost = CodeSends {
        available_at: 0,
        ..sends(2)
    };
    assert!(!replace(Some(almost), sends(3)).await);
    assert_eq!(get("kim").await, Some(sends(2)));

    // Per Organization and username.
    assert_eq!(get("sam").await, None);
    assert_eq!(s.code_sends(GLOBEX, "kim").await.unwrap(), None);
    assert!(s
        .replace_code_sends(GLOBEX, "kim", None, sends(5))
        .await
        .unwrap());
    assert_eq!(get("kim").await, Some(sends(2)));
    assert!(!s
        .replace_code_sends(ACME, "sam", Some(sends(2)), sends(3))
        .await
        .unwrap());
    assert_eq!(get("sam").await, None);
}
conformance!(code_sends_compare_and_swap);

async fn parallel_code_sends_let_one_win(s: &Subject) {
    for expected in [None, Some(sends(1))] {
        let done = at_once(20, |i| {
            let db = s.db.clone();
            let new = sends(100 * (i as i64 + 2));
            async move {
                let won = db
                    .replace_code_sends(ACME, "kim", expected, new)
                    .await
                    .unwrap();
                (won, new)
            }
        })
        .await;
        let won: Vec<bool> = done.iter().map(|(won, _)| *won).collect();
        assert_eq!(winners(&won), 1, "from {expected:?}: {won:?}");
        let (_, winner) = done.iter().find(|(won, _)| *won).unwrap();
        assert_eq!(s.code_sends(ACME, "kim").await.unwrap(), Some(*winner));
        // Set up the next round's expected record.
        assert!(s
            .replace_code_sends(ACME, "kim", Some(*winner), sends(1))
            .await
            .unwrap());
    }
}
conformance!(parallel_code_sends_let_one_win);

// --- Authenticator replay guard ------------------------------------------------------------

async fn totp_steps_only_move_forward(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    assert!(
        s.claim_totp_step(&kim.id, 100).await.unwrap(),
        "first claim"
    );
    assert!(!s.claim_totp_step(&kim.id, 100).await.unwrap(), "same step");
    assert!(
        !s.claim_totp_step(&kim.id, 99).await.unwrap(),
        "earlier step"
    );
    assert!(s.claim_totp_step(&kim.id, 101).await.unwrap());
    assert!(s.claim_totp_step(&kim.id, 150).await.unwrap());
    assert!(!s.claim_totp_step(&kim.id, 120).await.unwrap());
    assert_eq!(reload(s, &kim).await.totp_last_step, Some(150));
    assert!(!s.claim_totp_step("nope", 1).await.unwrap());

    // Activation's step counts as used.
    s.set_totp_pending(&sam.id, "SECRET").await.unwrap();
    s.activate_totp(&sam.id, 50, &[]).await.unwrap();
    assert!(!s.claim_totp_step(&sam.id, 50).await.unwrap());
    assert!(s.claim_totp_step(&sam.id, 51).await.unwrap());
}
conformance!(totp_steps_only_move_forward);

async fn parallel_totp_claims_let_one_win(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let claimed = at_once(10, |_| {
        let (db, id) = (s.db.clone(), kim.id.clone());
        async move { db.claim_totp_step(&id, 7).await.unwrap() }
    })
    .await;
    assert_eq!(winners(&claimed), 1, "{claimed:?}");
    assert_eq!(reload(s, &kim).await.totp_last_step, Some(7));
}
conformance!(parallel_totp_claims_let_one_win);

// --- Maintenance ---------------------------------------------------------------------------

const DAY: i64 = 86_400;

async fn purge_removes_only_what_is_old_enough(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let now = NOW + 30 * DAY;
    let (day_ago, week_ago) = (now - DAY, now - 7 * DAY);
    // Of each kind, one just past its age and one just within it.
    for (id, at) in [("gone", day_ago - 1), ("kept", day_ago)] {
        let flow = Flow {
            expires_at: at,
            ..bare_flow(id)
        };
        s.insert_flow(&flow).await.unwrap();
        s.insert_session(id, &kim.id, NOW, at, Language::En)
            .await
            .unwrap();
        s.hit(id, at, 60).await.unwrap();
        let sent = CodeSends {
            sent: 1,
            last_sent_at: at,
            available_at: at + 60,
        };
        assert!(s.replace_code_sends(ACME, id, None, sent).await.unwrap());
    }
    // The outbox by age, sent or not.
    enqueue(s, "gone, sent", week_ago - 1).await;
    enqueue(s, "gone", week_ago - 1).await;
    enqueue(s, "kept", week_ago).await;
    let sent = claim(s, week_ago - 1).await.unwrap();
    assert_eq!(sent.subject, "gone, sent");
    s.email_sent(sent.id, week_ago).await.unwrap();

    let purged = Purged {
        flows: 1,
        sessions: 1,
        emails: 2,
        counters: 2,
    };
    assert_eq!(s.purge(now).await.unwrap(), purged);
    assert_eq!(s.purge(now).await.unwrap(), Purged::default(), "again");

    assert_eq!(s.flow("gone").await.unwrap(), None);
    assert_eq!(read_flow(s, "kept").await.expires_at, day_ago);
    assert_eq!(s.session("gone", 0).await.unwrap(), None);
    assert!(s.session("kept", 0).await.unwrap().is_some());
    let subjects: Vec<String> = s
        .emails(None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert_eq!(subjects, ["kept"]);
    assert_eq!(s.code_sends(ACME, "gone").await.unwrap(), None);
    assert!(s.code_sends(ACME, "kept").await.unwrap().is_some());
    // A removed counter starts again; a kept one counts on.
    let gone = Hit {
        hits: 1,
        window_start: now,
    };
    assert_eq!(s.hit("gone", now, 2 * DAY).await.unwrap(), gone);
    let kept = Hit {
        hits: 2,
        window_start: day_ago,
    };
    assert_eq!(s.hit("kept", now, 2 * DAY).await.unwrap(), kept);
    assert!(s.member(&kim.id).await.unwrap().is_some());
}
conformance!(purge_removes_only_what_is_old_enough);

async fn check_writable_is_ok(s: &Subject) {
    for now in [NOW, NOW + 1, NOW] {
        s.check_writable(now).await.unwrap();
    }
}
conformance!(check_writable_is_ok);

// --- Passkeys ------------------------------------------------------------------------------

fn passkey(m: &MemberRecord, id: &str, created_at: i64) -> PasskeyRecord {
    PasskeyRecord {
        id: id.into(),
        member_id: m.id.clone(),
        organization_id: m.organization_id.clone(),
        credential_id: format!("cred-{id}"),
        name: format!("Key {id}"),
        credential: format!("{{\"of\":\"{id}\"}}"),
        synced: id.ends_with('s'),
        created_at,
        last_used_at: None,
    }
}

async fn passkeys_round_trip_oldest_first_and_count_on_the_member(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    assert_eq!(reload(s, &kim).await.passkeys, 0);
    let later = passkey(&kim, "b", NOW + 10);
    let first = passkey(&kim, "as", NOW);
    assert!(s.add_passkey(&later).await.unwrap());
    assert!(s.add_passkey(&first).await.unwrap());
    assert!(s.add_passkey(&passkey(&sam, "c", NOW)).await.unwrap());
    assert_eq!(
        s.passkeys(&kim.id).await.unwrap(),
        [first.clone(), later.clone()]
    );
    assert_eq!(reload(s, &kim).await.passkeys, 2);
    assert_eq!(reload(s, &sam).await.passkeys, 1);
    assert_eq!(
        s.passkey_by_credential("cred-as").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(s.passkey_by_credential("cred-x").await.unwrap(), None);
    // A credential ID is stored once, whoever adds it again.
    let mut copy = passkey(&sam, "d", NOW);
    copy.credential_id = first.credential_id.clone();
    assert!(!s.add_passkey(&copy).await.unwrap());
}
conformance!(passkeys_round_trip_oldest_first_and_count_on_the_member);

async fn only_the_owner_renames_or_removes_a_passkey(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    s.add_passkey(&passkey(&kim, "a", NOW)).await.unwrap();
    assert_eq!(s.rename_passkey(&sam.id, "a", "Mine").await.unwrap(), None);
    assert!(!s.delete_passkey(&sam.id, "a").await.unwrap());
    let renamed = s
        .rename_passkey(&kim.id, "a", "Phone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Phone");
    assert_eq!(s.passkeys(&kim.id).await.unwrap(), [renamed]);
    assert!(s.delete_passkey(&kim.id, "a").await.unwrap());
    assert!(!s.delete_passkey(&kim.id, "a").await.unwrap());
    assert_eq!(s.passkey_by_credential("cred-a").await.unwrap(), None);
    assert_eq!(reload(s, &kim).await.passkeys, 0);
}
conformance!(only_the_owner_renames_or_removes_a_passkey);

async fn a_used_passkey_keeps_its_new_state(s: &Subject) {
    let kim = acme_and_kim(s).await;
    s.add_passkey(&passkey(&kim, "a", NOW)).await.unwrap();
    let read = passkey(&kim, "a", NOW).credential;
    // Of two logins that read the same record, only the first writes its new state: the
    // second's sign counter must not go back over it.
    let first = s.passkey_used("a", &read, "{\"counter\":7}", true, NOW + 5);
    assert!(first.await.unwrap());
    let second = s.passkey_used("a", &read, "{\"counter\":6}", false, NOW + 6);
    assert!(!second.await.unwrap());
    let used = s.passkey_by_credential("cred-a").await.unwrap().unwrap();
    assert_eq!(used.credential, "{\"counter\":7}");
    assert!(used.synced);
    assert_eq!(used.last_used_at, Some(NOW + 5));
    // A removed passkey takes no login.
    assert!(s.delete_passkey(&kim.id, "a").await.unwrap());
    let late = s.passkey_used("a", "{\"counter\":7}", "{\"counter\":8}", true, NOW + 7);
    assert!(!late.await.unwrap());
}
conformance!(a_used_passkey_keeps_its_new_state);

async fn losing_the_last_passkey_restarts_the_mfa_grace_period(s: &Subject) {
    let kim = acme_and_kim(s).await;
    s.start_requirements(&kim.id, NOW, true, false)
        .await
        .unwrap();
    s.add_passkey(&passkey(&kim, "a", NOW)).await.unwrap();
    s.add_passkey(&passkey(&kim, "b", NOW)).await.unwrap();
    // One passkey left: still MFA, the period is as it was.
    assert!(s.delete_passkey(&kim.id, "a").await.unwrap());
    assert_eq!(reload(s, &kim).await.mfa_required_since, Some(NOW));
    // None left: the requirement applies anew, from the next login or call.
    assert!(s.delete_passkey(&kim.id, "b").await.unwrap());
    assert_eq!(reload(s, &kim).await.mfa_required_since, None);

    // Passkeys turned off for the Organization: the same for members whose only factor was a
    // passkey, and only when they were on before.
    let sam = member(s, ACME, "sam").await;
    s.start_requirements(&sam.id, NOW, true, false)
        .await
        .unwrap();
    s.start_requirements(&kim.id, NOW, true, false)
        .await
        .unwrap();
    s.add_passkey(&passkey(&sam, "c", NOW)).await.unwrap();
    let methods = |m: Vec<LoginMethod>| SettingsChange {
        login_methods: Some(m),
        ..SettingsChange::default()
    };
    s.update_organization_settings(
        ACME,
        &methods(vec![LoginMethod::Password, LoginMethod::Passkey]),
    )
    .await
    .unwrap();
    assert_eq!(reload(s, &sam).await.mfa_required_since, Some(NOW));
    s.update_organization_settings(ACME, &methods(vec![LoginMethod::Password]))
        .await
        .unwrap();
    assert_eq!(reload(s, &sam).await.mfa_required_since, None);
    // kim has no passkey: her period runs on.
    assert_eq!(reload(s, &kim).await.mfa_required_since, Some(NOW));
    s.start_requirements(&sam.id, NOW + 50, true, false)
        .await
        .unwrap();
    s.update_organization_settings(ACME, &methods(vec![LoginMethod::EmailCode]))
        .await
        .unwrap();
    assert_eq!(reload(s, &sam).await.mfa_required_since, Some(NOW + 50));
}
conformance!(losing_the_last_passkey_restarts_the_mfa_grace_period);

async fn registration_challenges_are_single_use_per_session_and_expire(s: &Subject) {
    let kim = acme_and_kim(s).await;
    let sam = member(s, ACME, "sam").await;
    s.set_passkey_registration("t1", &kim.id, "first", NOW + 300)
        .await
        .unwrap();
    s.set_passkey_registration("t1", &kim.id, "second", NOW + 300)
        .await
        .unwrap();
    let taken = at_once(8, |_| {
        let (db, kim) = (s.db.clone(), kim.id.clone());
        async move { db.take_passkey_registration("t1", &kim, NOW).await }
    })
    .await;
    let taken: Vec<String> = taken.into_iter().filter_map(|t| t.unwrap()).collect();
    assert_eq!(taken, ["second"], "one winner, the newest challenge");
    // Another member's request with that session gets nothing, and uses it up.
    s.set_passkey_registration("t2", &kim.id, "x", NOW + 300)
        .await
        .unwrap();
    assert_eq!(
        s.take_passkey_registration("t2", &sam.id, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.take_passkey_registration("t2", &kim.id, NOW)
            .await
            .unwrap(),
        None,
        "gone"
    );
    s.set_passkey_registration("t3", &kim.id, "late", NOW + 300)
        .await
        .unwrap();
    assert_eq!(
        s.take_passkey_registration("t3", &kim.id, NOW + 300)
            .await
            .unwrap(),
        None,
        "expired"
    );
    s.set_passkey_registration("t4", &kim.id, "old", NOW)
        .await
        .unwrap();
    s.set_passkey_registration("t5", &kim.id, "new", NOW + 300)
        .await
        .unwrap();
    let purged = s.purge(NOW + 1).await.unwrap();
    assert_eq!(purged.counters, 1, "the expired challenge");
    assert_eq!(
        s.take_passkey_registration("t5", &kim.id, NOW + 1)
            .await
            .unwrap()
            .as_deref(),
        Some("new")
    );
}
conformance!(registration_challenges_are_single_use_per_session_and_expire);

// --- Backend -------------------------------------------------------------------------------

async fn backend_names_itself(s: &Subject) {
    assert_eq!(s.backend(), s.name);
}
conformance!(backend_names_itself);
