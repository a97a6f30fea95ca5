"""House rules that keep the layers honest, checked on the source itself."""

import ast
import pathlib
import sys

KILN = pathlib.Path(__file__).resolve().parents[3] / "functions" / "kiln"


def _imports(path: pathlib.Path) -> set[str]:
    """Every module a file imports, at the top or inside a function; `from kiln import services`
    counts as both `kiln` and `kiln.services`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _reaching(path: pathlib.Path, *packages: str) -> set[str]:
    return {n for n in _imports(path) if any(n == p or n.startswith(p + ".") for p in packages)}


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
        scans = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in {"scan", "parallel_scan"}
        ]
        assert not scans, f"{path.name} calls Scan at lines {scans}"


def test_only_adapters_build_aws_clients():
    for path in KILN.rglob("*.py"):
        if "adapters" in path.parts:
            continue
        assert "boto3.client(" not in path.read_text(), path.name


def test_http_layer_never_reaches_into_the_composition_root():
    # kiln.http is the pipeline handlers run through; handlers get their services themselves.
    for path in (KILN / "http").rglob("*.py"):
        assert not _reaching(path, "kiln.services", "kiln.handlers"), path.name


def test_composition_root_never_imports_the_http_layer():
    # kiln.services wires domain services to adapters; HTTP concerns stay above it.
    assert not _reaching(KILN / "services.py", "kiln.http", "kiln.handlers")


def test_composition_root_keeps_no_module_level_caches():
    # What a container keeps lives on the root (kiln.services.Services), which tests replace
    # whole; a module-level @cache would outlive services.reset() and need clearing by name.
    tree = ast.parse((KILN / "services.py").read_text())
    names = {"cache", "lru_cache", "functools.cache", "functools.lru_cache"}
    cached = [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any(ast.unparse(d.func if isinstance(d, ast.Call) else d) in names for d in node.decorator_list)
    ]
    assert not cached, f"module-level caches in services.py: {cached}"
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "functools"
        for alias in node.names
    }
    assert not imported & {"cache", "lru_cache"}, imported


def test_domain_layer_reads_no_settings_and_knows_no_callers():
    # Settings reach the domain as arguments from the composition root, never from the environment.
    for path in (KILN / "domain").rglob("*.py"):
        bad = _reaching(path, "kiln.config", "kiln.services", "kiln.http", "kiln.handlers", "kiln.workers")
        assert not bad, f"{path.name} imports {bad}"


def test_settings_module_imports_only_the_standard_library():
    # Every function loads it at its cold start, the authorizer's (which loads no pydantic) included.
    imported = {name.split(".")[0] for name in _imports(KILN / "config.py")} - {"__future__"}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
