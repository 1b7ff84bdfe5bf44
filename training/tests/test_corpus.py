# The corpus step: minified/generated files are dropped, module-format copies are deduplicated,
# the committed tarballs match their pinned integrity, and (when the npm registry is reachable)
# a pinned package fetched with `npm pack` matches the manifest's integrity hash.
import json
import os
import shutil

import pytest

from conftest import TRAINING
from slipstream_train import corpus


def test_minified_and_generated_files_are_dropped():
    assert corpus.looks_minified_or_generated("var a=1;" * 300, "package/dist/x.js")
    assert corpus.looks_minified_or_generated("x\n" * 100, "package/dist/x.min.js")
    assert corpus.looks_minified_or_generated("// Code generated; DO NOT EDIT.\n" + "let a = 1;\n" * 20, "package/a.ts")
    assert not corpus.looks_minified_or_generated("export function f() {\n  return 1;\n}\n" * 5, "package/src/f.ts")


def test_module_format_copies_share_a_dedup_key_and_typescript_wins():
    assert corpus.dedup_key("package/dist/esm/util/a.js") == corpus.dedup_key("package/src/util/a.ts") == \
        corpus.dedup_key("package/dist/cjs/util/a.d.ts")
    assert corpus.ext_rank("package/src/a.ts") < corpus.ext_rank("package/dist/a.js") < corpus.ext_rank("package/a.d.ts")


def test_the_manifest_pins_permissive_licences_and_every_split():
    man = json.load(open(corpus.MANIFEST))["packages"]
    assert len(man) >= 40
    assert all(e["license"] in corpus.PERMISSIVE and e["integrity"].startswith("sha512-") for e in man)
    assert {e["split"] for e in man} == {"train", "validation", "test"}


def test_the_committed_test_corpus_matches_its_integrity_hashes():
    tars = corpus.local_tarballs(os.path.join(TRAINING, "tests", "data"))
    assert len(tars) >= 3


def test_npm_pack_fetches_a_pinned_package_with_its_integrity(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    try:
        got = corpus.fetch(str(tmp_path), only={"debug"})
    except RuntimeError as e:
        if any(s in str(e) for s in ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "network")):
            pytest.skip(f"npm registry unreachable: {str(e)[:200]}")
        raise
    assert len(got) == 1 and os.path.exists(got[0][1])
    files = list(corpus.extract_sources(got[0][1]))
    assert files and all(p.endswith(corpus.SOURCE_EXT) for p, _ in files)
