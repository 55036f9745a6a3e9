//! `nsctl man`, `nsctl completions SHELL` and `nsctl schema`: nsctl describing itself, from
//! the command tree and the lab file's types. Their arguments are parsed by clap (ip has no
//! such verbs).

use crate::error::Ret;
use crate::output::{err, out};

/// Run a meta verb with the words after it.
pub fn run(verb: &str, args: &[Vec<u8>]) -> Ret {
    use std::os::unix::ffi::OsStringExt;
    let Some(cmd) = crate::tree::get().find_subcommand(verb) else {
        return Ok(-2);
    };
    let argv = std::iter::once(std::ffi::OsString::from(format!("nsctl {verb}")))
        .chain(args.iter().map(|a| std::ffi::OsString::from_vec(a.clone())));
    let m = match cmd.clone().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() { -2 } else { 0 });
        }
    };
    match verb {
        "man" => out(&crate::manual::page(
            m.get_one::<String>("PAGE").map_or("nsctl", String::as_str),
        )),
        "schema" => out(lab_schema().as_bytes()),
        _ => {
            let shell = m
                .get_one::<String>("SHELL")
                .map(String::as_str)
                .unwrap_or("");
            match crate::completions::script(shell) {
                Some(s) => out(&s),
                None => {
                    err(format!("nsctl completions: no script for {shell}\n").as_bytes());
                    return Ok(-2);
                }
            }
        }
    }
    Ok(0)
}

/// The lab file's JSON Schema (draft 7, which taplo and the editors' JSON validators read),
/// derived from the types that parse the file (lab/file.rs), as pretty JSON with a final
/// newline: the text of schema/nsctl-lab.schema.json.
pub fn lab_schema() -> String {
    use schemars::generate::SchemaSettings;
    let mut s = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<crate::lab::file::LabFile>()
        .to_value();
    tidy(&mut s);
    // A `Schema` is a JSON value: serializing it cannot fail.
    let mut t = serde_json::to_string_pretty(&s).unwrap_or_default();
    t.push('\n');
    t
}

/// Drop `null` from every type in the schema: an absent key is how a lab file leaves out an
/// optional value (TOML has no null, and schemars describes `Option` as JSON does). And make
/// each description one line: doc comments wrap at 100 columns, an editor's tooltip does not.
fn tidy(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    o.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(words)) = o.get_mut("enum") {
                words.retain(|w| !w.is_null());
            }
            if let Some(Value::String(d)) = o.get_mut("description") {
                *d = d.replace('\n', " ");
            }
            for k in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = o.get_mut(k) {
                    alts.retain(|a| a.get("type").is_none_or(|t| t != "null"));
                }
            }
            o.values_mut().for_each(tidy);
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    /// The committed schema is what `nsctl schema` prints, so the file editors point at never
    /// drifts from the parser's types.
    #[test]
    fn committed_schema_is_generated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/nsctl-lab.schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == super::lab_schema(),
            "{path} differs from `nsctl schema`; regenerate it: \
             cargo run -q -- schema > schema/nsctl-lab.schema.json"
        );
    }
}
