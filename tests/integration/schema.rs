//! The lab file's JSON Schema (schema/nsctl-lab.schema.json, `nsctl schema`) as an editor
//! uses it: every example validates, a file using every key validates, and each file nsctl
//! refuses for a typo or a wrong type (`nsctl graph` exits 2) does not. The validator is
//! Python's `jsonschema` (Debian's python3-jsonschema) on the TOML `tomllib` reads; without
//! it the case is skipped with a line saying so, and fails under CI=true.

use crate::support::{check, root_dir, sandbox_env};

/// A Python 3.11+ with `jsonschema` (and `tomllib`), as an absolute path: Debian's first
/// (where python3-jsonschema installs), then the one on PATH.
fn python() -> Option<String> {
    ["/usr/bin/python3", "python3"].iter().find_map(|p| {
        let o = std::process::Command::new(p)
            .args([
                "-c",
                "import sys, tomllib, jsonschema; print(sys.executable)",
            ])
            .output()
            .ok()?;
        let exe = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (o.status.success() && exe.starts_with('/')).then_some(exe)
    })
}

/// Validates each file given against the schema: `NAME: valid`, or one line per error:
/// `NAME: KEYWORD at /PATH`, with the unknown keys for `additionalProperties` (not
/// jsonschema's message, whose words change between its versions).
const VALIDATE: &str = r#"
import json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    name = path.rsplit("/", 1)[-1]
    errs = sorted(v.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if not errs:
        print(f"{name}: valid")
    for e in errs:
        at = "/".join(str(p) for p in e.absolute_path)
        extra = ""
        if e.validator == "additionalProperties":
            extra = " " + ",".join(sorted(set(e.instance) - set(e.schema.get("properties", {}))))
        print(f"{name}: {e.validator} at /{at}{extra}")
"#;

/// Every example and a file with every key validate; each bad file is refused by the schema
/// at the key nsctl refuses, and by nsctl itself.
pub fn examples_validate_and_typos_do_not() -> Result<(), String> {
    let Some(py) = python() else {
        let why = "python3 with the jsonschema module is missing \
                   (apt-get install python3-jsonschema)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err(format!("{why}, and CI=true: failing instead of skipping"));
        }
        println!("schema_examples_validate_and_typos_do_not: SKIPPED: {why}");
        return Ok(());
    };
    let root = root_dir().display().to_string();
    // Every example, whatever examples/ holds when the test runs.
    let mut examples: Vec<String> = std::fs::read_dir(root_dir().join("examples"))
        .map_err(|e| format!("examples/: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    examples.sort();
    let paths: Vec<String> = examples
        .iter()
        .map(|n| format!("'{root}/examples/{n}'"))
        .collect();
    let paths = paths.join(" ");
    let valid: String = examples.iter().map(|n| format!("{n}: valid\n")).collect();
    let n = examples.len();
    let o = sandbox_env(
        &format!(
            r#"
cd /tmp
schema={root}/schema/nsctl-lab.schema.json
$NSCTL schema | cmp -s - "$schema" && echo "nsctl schema prints the committed file"
[ {n} -ge 7 ] && echo "examples: at least 7"
cat > validate.py <<'EOF'
{VALIDATE}
EOF
cat > every-key.toml <<'EOF'
name = "every-key"
etc_hosts = false
vni = "5000..5999"
[hosts.h1]
underlay = "192.0.2.1"
ssh = "root@192.0.2.1"
[hosts.h2]
underlay = "192.0.2.2"
[host]
sysctl = {{ "net.ipv4.ip_forward" = 1, "net.ipv4.conf.all.forwarding" = true }}
routes = []
[netns.A]
host = "h1"
lo = true
sysctl = {{ "net.ipv4.conf.all.rp_filter" = "0" }}
[netns."b{{1..2}}"]
host = "h2"
[bridge.lan]
host = "h1"
addresses = ["10.1.0.1/24"]
mtu = 1500
[[veth]]
ends = [{{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"], mtu = 1400, rate = "10mbit", delay = "10ms", jitter = "2ms", loss = "1%" }},
        {{ netns = "b1", name = "eth0", addresses = ["10.0.0.2/24"] }}]
[[veth]]
for = "1..1"
ends = [{{ netns = "A", name = "l{{i}}" }}, {{ name = "v{{i}}", bridge = "lan" }}]
[[nat]]
for = "1..1"
source = "10.{{i}}.0.0/24"
out = "eth0"
[[check]]
from = "A"
to = "b1"
ping = true
expect = "reachable"
timeout = 2
[[check]]
for = "1..2"
from = "A/eth0"
to = "10.0.0.2"
tcp = 80
expect = "unreachable"
timeout = 0.5
EOF
printf '[netns.A]\n[[veth]]\nends = [{{ netns = "A", name = "a", adresses = ["10.0.0.1/24"] }}, {{ name = "b" }}]\n' > typo.toml
printf '[bridge.br0]\nmtu = "1500"\n' > wrong-type.toml
printf '[netn.A]\n' > typo-table.toml
printf 'hosts = true\n' > old-hosts-switch.toml
printf '[host]\nlo = true\n' > host-lo.toml
printf '[[check]]\nfrom = "A"\nto = "B"\nping = true\nexpect = "maybe"\n' > expect-word.toml
printf '[[veth]]\nends = [{{ name = "a" }}]\n' > one-end.toml
"$PY" validate.py "$schema" {paths} every-key.toml
$NSCTL graph every-key.toml > /dev/null; echo "nsctl reads every-key.toml: rc=$?"
for f in typo wrong-type typo-table old-hosts-switch host-lo expect-word one-end; do
  "$PY" validate.py "$schema" $f.toml
  $NSCTL graph $f.toml > /dev/null 2>&1; echo "nsctl refuses $f.toml: rc=$?"
done
"#
        ),
        &[("PY", py.as_str())],
    );
    let want = format!(
        "nsctl schema prints the committed file\nexamples: at least 7\n{valid}\
         every-key.toml: valid\n\
         nsctl reads every-key.toml: rc=0\n\
         typo.toml: additionalProperties at /veth/0/ends/0 adresses\n\
         nsctl refuses typo.toml: rc=2\n\
         wrong-type.toml: type at /bridge/br0/mtu\n\
         nsctl refuses wrong-type.toml: rc=2\n\
         typo-table.toml: additionalProperties at / netn\n\
         nsctl refuses typo-table.toml: rc=2\n\
         old-hosts-switch.toml: type at /hosts\n\
         nsctl refuses old-hosts-switch.toml: rc=2\n\
         host-lo.toml: additionalProperties at /host lo\n\
         nsctl refuses host-lo.toml: rc=2\n\
         expect-word.toml: enum at /check/0/expect\n\
         nsctl refuses expect-word.toml: rc=2\n\
         one-end.toml: minItems at /veth/0/ends\n\
         nsctl refuses one-end.toml: rc=2\n"
    );
    check(&o, &want, "the schema against the examples and bad files")
}
