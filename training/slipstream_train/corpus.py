# Corpus step: fetch pinned npm packages with `npm pack`, verify their integrity hashes, keep
# TypeScript/JavaScript source (minified, generated and duplicate files dropped) and write
# train / validation / test JSONL files split BY PACKAGE (no test package is seen in training).
# The manifest (training/corpus/manifest.json) pins name, version, integrity and licence; the
# `--pin` mode (re)creates it from corpus/packages.txt by packing the latest versions once.
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
MANIFEST = os.path.join(TRAINING, "corpus", "manifest.json")
PACKAGES_TXT = os.path.join(TRAINING, "corpus", "packages.txt")

SOURCE_EXT = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx")
PERMISSIVE = {"MIT", "ISC", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "CC0-1.0",
              "(MIT OR CC0-1.0)", "MIT OR CC0-1.0", "BlueOak-1.0.0", "Unlicense"}
# Path segments that only select a module format; files equal up to these are the same source.
FORMAT_DIRS = {"cjs", "esm", "es", "es5", "es6", "es2015", "esm5", "esm2015", "esm2020", "fesm2015",
               "fesm2020", "fesm2022", "umd", "module", "modules", "commonjs", "node", "browser",
               "lib", "dist", "build", "types", "typings", "mjs", "internal", "src", "source",
               "dist-es", "dist-cjs", "dist-types", "out"}
MAX_FILE_BYTES = 400_000
MAX_PACKAGE_BYTES = 3_000_000


def read_package_list(path=PACKAGES_TXT):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            name, split = line.split()
            out.append((name, split))
    return out


def npm_pack(spec, dest):
    """Runs `npm pack spec` into dest; returns npm's JSON record (name, version, integrity, filename)."""
    os.makedirs(dest, exist_ok=True)
    res = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", dest],
                         capture_output=True, text=True, cwd=dest)
    if res.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed: {res.stderr.strip()[-500:]}")
    return json.loads(res.stdout)[0]


def sri_of(path):
    """Subresource-integrity string (sha512-...) of a file, as npm records it."""
    digest = hashlib.sha512(open(path, "rb").read()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def licence_of(tgz_path):
    with tarfile.open(tgz_path) as tar:
        member = tar.getmember("package/package.json")
        pkg = json.load(tar.extractfile(member))
    lic = pkg.get("license", pkg.get("licenses", "UNKNOWN"))
    if isinstance(lic, dict):
        lic = lic.get("type", "UNKNOWN")
    if isinstance(lic, list):
        lic = " OR ".join(l.get("type", "?") if isinstance(l, dict) else str(l) for l in lic)
    return str(lic)


def pin(work_dir):
    """Packs the latest version of every package in packages.txt once and writes the manifest."""
    tar_dir = os.path.join(work_dir, "tarballs")
    entries = []
    for name, split in read_package_list():
        rec = npm_pack(name, tar_dir)
        tgz = os.path.join(tar_dir, rec["filename"])
        lic = licence_of(tgz)
        if lic not in PERMISSIVE:
            print(f"skip {name}: licence {lic}", file=sys.stderr)
            continue
        entries.append({"name": rec["name"], "version": rec["version"], "integrity": rec["integrity"],
                        "license": lic, "split": split})
        print(f"pinned {rec['name']}@{rec['version']} {lic} {split}", file=sys.stderr)
    json.dump({"packages": entries}, open(MANIFEST, "w"), indent=1)
    return entries


def fetch(work_dir, manifest=MANIFEST, only=None):
    """Fetches every pinned tarball (cached in work_dir/tarballs), checking integrity. Returns paths."""
    tar_dir = os.path.join(work_dir, "tarballs")
    os.makedirs(tar_dir, exist_ok=True)
    out = []
    for e in json.load(open(manifest))["packages"]:
        if only and e["name"] not in only:
            continue
        fname = e["name"].lstrip("@").replace("/", "-") + "-" + e["version"] + ".tgz"
        tgz = os.path.join(tar_dir, fname)
        if not os.path.exists(tgz) or sri_of(tgz) != e["integrity"]:
            rec = npm_pack(f"{e['name']}@{e['version']}", tar_dir)
            tgz = os.path.join(tar_dir, rec["filename"])
        if sri_of(tgz) != e["integrity"]:
            raise RuntimeError(f"integrity mismatch for {e['name']}@{e['version']}")
        out.append((e, tgz))
    return out


def looks_minified_or_generated(text, path):
    base = os.path.basename(path)
    if re.search(r"\.min\.|\.bundle\.|-bundle\.|\.prod\.|\.production\.", base):
        return True
    lines = text.split("\n")
    if not lines or len(text) < 64:
        return True
    if max(len(l) for l in lines) > 1000:
        return True
    if len(text) / len(lines) > 120:
        return True
    head = text[:600].lower()
    if "do not edit" in head or "auto-generated" in head or "autogenerated" in head or "@generated" in head:
        return True
    if "sourcemappingurl=data:" in text[-2000:].lower():
        return True
    # bundles: a file where most of the content sits in one huge webpack/rollup closure
    if text.count("__webpack_require__") > 20:
        return True
    return False


def dedup_key(path):
    parts = path.split("/")[1:]  # drop the "package/" root
    parts = [p for p in parts[:-1] if p.lower() not in FORMAT_DIRS] + parts[-1:]
    stem = re.sub(r"\.(d\.)?(ts|tsx|mts|cts|js|mjs|cjs|jsx)$", "", parts[-1])
    return "/".join(parts[:-1] + [stem])


def ext_rank(path):
    # prefer TypeScript source, then JS, then declaration files
    if re.search(r"\.d\.(ts|mts|cts)$", path):
        return 2
    if re.search(r"\.(ts|tsx|mts|cts)$", path):
        return 0
    return 1


def extract_sources(tgz, max_package_bytes=MAX_PACKAGE_BYTES):
    """Yields (path, text) of the kept source files of one tarball, one file per module."""
    chosen = {}
    with tarfile.open(tgz) as tar:
        for m in tar.getmembers():
            if not m.isfile() or not m.name.endswith(SOURCE_EXT) or m.size > MAX_FILE_BYTES:
                continue
            if "/node_modules/" in m.name or "/test" in m.name.lower() or "/__tests__/" in m.name:
                continue
            raw = tar.extractfile(m).read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            text = text.replace("\r\n", "\n").lstrip("\ufeff")
            if looks_minified_or_generated(text, m.name):
                continue
            key = dedup_key(m.name)
            rank = (ext_rank(m.name), m.name.count("/"), m.name)
            if key not in chosen or rank < chosen[key][0]:
                chosen[key] = (rank, m.name, text)
    total = 0
    for key in sorted(chosen):
        _, name, text = chosen[key]
        if total + len(text) > max_package_bytes:
            break
        total += len(text)
        yield name[len("package/"):], text


def normalise_for_dedup(text):
    return hashlib.sha1(re.sub(r"\s+", "", text).encode()).hexdigest()


def build(work_dir, manifest=MANIFEST, only=None, max_package_bytes=MAX_PACKAGE_BYTES, tarballs=None):
    """Fetch + filter + dedup + split. Writes work_dir/corpus/{train,validation,test}.jsonl."""
    if tarballs is None:
        tarballs = fetch(work_dir, manifest, only)
    out_dir = os.path.join(work_dir, "corpus")
    os.makedirs(out_dir, exist_ok=True)
    files = {s: open(os.path.join(out_dir, f"{s}.jsonl"), "w", encoding="utf-8")
             for s in ("train", "validation", "test")}
    seen = set()
    stats = {s: {"files": 0, "bytes": 0, "packages": []} for s in files}
    for e, tgz in tarballs:
        split = e["split"]
        n_before = stats[split]["files"]
        for path, text in extract_sources(tgz, max_package_bytes):
            h = normalise_for_dedup(text)
            if h in seen:
                continue
            seen.add(h)
            files[split].write(json.dumps({"package": e["name"], "path": path, "text": text}) + "\n")
            stats[split]["files"] += 1
            stats[split]["bytes"] += len(text.encode())
        stats[split]["packages"].append(f"{e['name']}@{e['version']} ({stats[split]['files'] - n_before} files)")
    for f in files.values():
        f.close()
    json.dump(stats, open(os.path.join(out_dir, "stats.json"), "w"), indent=1)
    return stats


def read_split(work_dir, split):
    path = os.path.join(work_dir, "corpus", f"{split}.jsonl")
    return [json.loads(l) for l in open(path, encoding="utf-8")]


def local_tarballs(data_dir):
    """The small committed corpus (training/tests/data): a manifest plus tarballs, no network."""
    man = json.load(open(os.path.join(data_dir, "manifest.json")))
    out = []
    for e in man["packages"]:
        tgz = os.path.join(data_dir, e["file"])
        if sri_of(tgz) != e["integrity"]:
            raise RuntimeError(f"integrity mismatch for committed {tgz}")
        out.append((e, tgz))
    return out


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default=os.path.join(TRAINING, "work"))
    ap.add_argument("--pin", action="store_true", help="re-pin latest versions into the manifest")
    args = ap.parse_args()
    if args.pin:
        pin(args.work)
    print(json.dumps(build(args.work), indent=1))
