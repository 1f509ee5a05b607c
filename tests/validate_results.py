#!/usr/bin/env python3
"""Validates results files against docs/results.schema.json (python3-jsonschema).

validate_results.py MOETUNE SOURCE_DIR WORK_DIR: every .json of SOURCE_DIR/results/ (moetune's
and the peers'), a fresh `moetune sweep` of tests/data/schema_sweep.yaml, and, so that the test
can fail, copies of that output broken in ways the schema must reject. Exit 77 (ctest: skipped)
when jsonschema is not installed.
"""
import copy
import json
import pathlib
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("skipped: python3-jsonschema is not installed (tools/install-deps.sh installs it)")
    sys.exit(77)


def main():
    moetune, source, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    schema = json.loads((source / "docs/results.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    def check(name, doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:3]:
            failures.append(f"{name}: at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")
        return not errors

    files = sorted((source / "results").rglob("*.json"))
    if not files:
        failures.append(f"no results files under {source / 'results'}")
    for f in files:
        check(str(f.relative_to(source)), json.loads(f.read_text()))

    work.mkdir(parents=True, exist_ok=True)
    out = work / "schema_sweep.json"
    out.unlink(missing_ok=True)
    subprocess.run([moetune, "sweep", str(source / "tests/data/schema_sweep.yaml"), "-o", str(out),
                    "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    fresh = json.loads(out.read_text())
    check("a fresh sweep", fresh)
    ops = {b["op"] for b in fresh["benchmarks"]}
    if ops != {"gemv", "swiglu", "softmax", "topk", "layer"}:
        failures.append(f"the fresh sweep has ops {sorted(ops)}, expected all five")

    # Fields another engineer adds must not break the schema: unknown keys are allowed.
    extended = copy.deepcopy(fresh)
    extended["context"]["load_average"] = [0.5, 0.4, 0.3]
    extended["benchmarks"][0]["stop_reason"] = "settled"
    check("a fresh sweep with new fields", extended)

    # What the schema must reject: each broken copy has to fail.
    def first(op):
        return next(i for i, b in enumerate(fresh["benchmarks"]) if b["op"] == op)
    breakages = {
        "an entry without op": lambda d: d["benchmarks"][0].pop("op"),
        "an unknown op": lambda d: d["benchmarks"][0].update(op="matmul"),
        "tokens as a string": lambda d: d["benchmarks"][0].update(tokens="5"),
        "a gemv entry without rows": lambda d: d["benchmarks"][first("gemv")].pop("rows"),
        "a layer entry without allocs_per_call":
            lambda d: d["benchmarks"][first("layer")].pop("allocs_per_call"),
        "an aggregate without aggregate_name": lambda d: next(
            b for b in d["benchmarks"] if b["run_type"] == "aggregate").pop("aggregate_name"),
        "a context without git_commit": lambda d: d["context"].pop("git_commit"),
        "no benchmarks": lambda d: d.pop("benchmarks"),
        "a failed entry without error_message": lambda d: d["benchmarks"][0].update(
            error_occurred=True, verified=False),
    }
    for what, breaks in breakages.items():
        doc = copy.deepcopy(fresh)
        breaks(doc)
        if not list(validator.iter_errors(doc)):
            failures.append(f"the schema accepts {what}")

    for f in failures:
        print(f)
    print(f"{len(files)} files of results/ and a fresh sweep checked against docs/results.schema.json;"
          f" {len(breakages)} broken copies rejected: {'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
