"""House rules that keep the layers honest, checked on the source itself."""

import ast
import pathlib

KILN = pathlib.Path(__file__).resolve().parents[3] / "functions" / "kiln"


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_layer_never_imports_aws_sdks():
    for path in (KILN / "domain").rglob("*.py"):
        bad = {n for n in _imports(path) if n.split(".")[0] in {"boto3", "botocore"} or n.startswith("kiln.adapters")}
        assert not bad, f"{path.name} imports {bad}"


def test_handlers_do_not_import_boto3_directly():
    for path in (KILN / "handlers").rglob("*.py"):
        assert not {n for n in _imports(path) if n.split(".")[0] in {"boto3", "botocore"}}, path.name


def test_no_code_path_scans_the_table():
    for path in KILN.rglob("*.py"):
        tree = ast.parse(path.read_text())
        scans = [node.lineno for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and node.attr in {"scan", "parallel_scan"}]
        assert not scans, f"{path.name} calls Scan at lines {scans}"


def test_only_adapters_build_aws_clients():
    for path in KILN.rglob("*.py"):
        if "adapters" in path.parts:
            continue
        assert "boto3.client(" not in path.read_text(), path.name
