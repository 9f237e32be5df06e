//! The serde reader the app read its answers with until December 2026 (`src/js_de.rs` then): a
//! serde `Deserializer` over what the browser's JSON parser made. The app now reads each type
//! with a plain reader (`member_login::js_de::FromJs`); the tests hold those to this one.

use js_sys::{Array, Object, Reflect};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use wasm_bindgen::{JsCast, JsValue};

/// `value` as a `T`, or `None` when it does not have `T`'s shape.
pub fn serde_from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    T::deserialize(Value(value)).ok()
}

/// The value did not fit the type; nothing more is kept.
#[derive(Debug)]
pub struct Mismatch;

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the value does not fit the type")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

struct Value(JsValue);

impl<'de> de::Deserializer<'de> for Value {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        let v = self.0;
        if v.is_null() || v.is_undefined() {
            visitor.visit_unit()
        } else if let Some(b) = v.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(n) = v.as_f64() {
            // JSON integers arrive as doubles; whole ones in the exact range go as integers.
            if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
                if n < 0.0 {
                    visitor.visit_i64(n as i64)
                } else {
                    visitor.visit_u64(n as u64)
                }
            } else {
                visitor.visit_f64(n)
            }
        } else if let Some(s) = v.as_string() {
            visitor.visit_string(s)
        } else if Array::is_array(&v) {
            let items: Vec<JsValue> = v.unchecked_into::<Array>().iter().collect();
            visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(Value),
            ))
        } else if v.is_object() {
            let object: Object = v.unchecked_into();
            let entries: Vec<(String, Value)> = Object::keys(&object)
                .iter()
                .map(|key| {
                    let value = Reflect::get(&object, &key).unwrap_or(JsValue::UNDEFINED);
                    (key.as_string().unwrap_or_default(), Value(value))
                })
                .collect();
            visitor.visit_map(de::value::MapDeserializer::new(entries.into_iter()))
        } else {
            Err(Mismatch)
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// Unit variants, which is all the contract sends: `"choose_method"`.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        let name = self.0.as_string().ok_or(Mismatch)?;
        visitor.visit_enum(name.into_deserializer())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Mismatch> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
