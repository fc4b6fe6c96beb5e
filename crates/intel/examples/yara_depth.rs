// Temporary measurement: compiles one deep shape; exit 0 = compiled or refused, abort = overflow.
use std::path::Path;
fn shape(kind: &str, d: usize) -> String {
    match kind {
        "parens" => format!("rule r {{ condition: {}true{} }}", "(".repeat(d), ")".repeat(d)),
        "not" => format!("rule r {{ condition: {}true }}", "not ".repeat(d)),
        "and" => format!("rule r {{ condition: {}true }}", "true and ".repeat(d)),
        "or_and" => format!("rule r {{ condition: {}true }}", "true and true or ".repeat(d)),
        "plus" => format!("rule r {{ condition: {}1 == 1 }}", "1 + ".repeat(d)),
        "plusminus" => format!("rule r {{ condition: {}1 == 1 }}", "1 + 1 - ".repeat(d / 2)),
        "bitor" => format!("rule r {{ condition: {}1 == 1 }}", "1 | ".repeat(d)),
        "eq" => format!("rule r {{ condition: {}1 }}", "1 == ".repeat(d)),
        "neg" => format!("rule r {{ condition: {}1 == 1 }}", "-".repeat(d)),
        "negsp" => format!("rule r {{ condition: {}1 == 1 }}", "- ".repeat(d)),
        "tilde" => format!("rule r {{ condition: {}1 == 1 }}", "~".repeat(d)),
        "defined" => format!("rule r {{ condition: {}true }}", "defined ".repeat(d)),
        "for" => format!("rule r {{ condition: {}true{} }}", "for any i in (0..1) : (".repeat(d), ")".repeat(d)),
        "hex" => {
            format!("rule r {{ strings: $a = {{ 01 {}02{} }} condition: $a }}", "( 03 | ".repeat(d), " )".repeat(d))
        }
        "index" => format!(
            "import \"pe\" rule r {{ condition: {}0{} == 0 }}",
            "pe.sections[".repeat(d),
            "].raw_data_size".repeat(d)
        ),
        "regex" => format!("rule r {{ strings: $a = /{}a{}/ condition: $a }}", "(".repeat(d), ")".repeat(d)),
        "dot" => format!("import \"pe\" rule r {{ condition: pe{} == 0 }}", ".a".repeat(d)),
        "fn" => format!("import \"math\" rule r {{ condition: {}0{} == 0 }}", "math.abs(".repeat(d), ")".repeat(d)),
        _ => panic!("shape"),
    }
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a[1] == "scan" {
        let mut worst = (0, String::new());
        for f in &a[2..] {
            let t = std::fs::read_to_string(f).unwrap();
            let d = (0..).find(|&l| takedown_intel::yara::nesting::check(&t, l).is_ok()).unwrap();
            if d > worst.0 {
                worst = (d, f.clone());
            }
        }
        println!("max {} in {}", worst.0, worst.1);
        return;
    }
    let (kind, d, thread) = (a[1].clone(), a[2].parse::<usize>().unwrap(), a[3].clone());
    let src = shape(&kind, d);
    let pre = a.get(4).is_some();
    let work = move || {
        if pre {
            if let Err(e) = takedown_intel::yara::check_nesting(Path::new("x.yar"), &src) {
                println!("refused: {e}");
                return;
            }
        }
        let mut c = takedown_intel::yara::compiler();
        match c.add_source(yara_x::SourceCode::from(src.as_str())) {
            Ok(_) => println!("ok {}", c.build().iter().count()),
            Err(e) => println!("err {}", takedown_intel::clip(&e.to_string())),
        }
    };
    match thread.as_str() {
        "main" => work(),
        "rayon" => rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(work),
        "2m" => std::thread::Builder::new().stack_size(2 << 20).spawn(work).unwrap().join().unwrap(),
        _ => panic!("thread"),
    }
}
