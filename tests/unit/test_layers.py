"""Layers point down: the REST API and the screens stand side by side on the scoped
data interface (app/data); services, domain and models import neither; the domain
imports no Flask and no database session; no module imports itself in a circle."""
import ast
import pathlib

APP = pathlib.Path(__file__).resolve().parents[2] / "app"


def imports_of(path: pathlib.Path) -> set[str]:
    """Fully qualified app modules ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
                names = [name] + [f"{name}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("app"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("app"))
    return found


def modules(folder: str):
    return sorted((APP / folder).rglob("*.py")) if (APP / folder).is_dir() else [APP / folder]


def test_api_and_views_do_not_import_each_other():
    for path in modules("api"):
        assert not any(m.startswith("app.views") for m in imports_of(path)), path
    for path in modules("views"):
        assert not any(m.startswith("app.api") for m in imports_of(path)), path


def test_lower_layers_import_no_screen_and_no_api():
    for folder in ("services", "domain", "models", "data", "security"):
        for path in modules(folder):
            bad = [m for m in imports_of(path) if m.startswith(("app.views", "app.api"))]
            assert not bad, (path, bad)


def test_the_domain_is_pure():
    for path in modules("domain"):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.startswith(("flask", "app.extensions", "app.data", "app.services",
                                     "app.models")) for n in names), path


def test_services_import_no_cycle():
    services = {f"app.services.{p.stem}": p for p in modules("services")}
    graph = {name: {m for m in imports_of(p) if m in services and m != name}
             for name, p in services.items()}

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, seen + (n,)))
                   for n in graph[start])

    cycles = [name for name in graph if reaches(name, name)]
    assert not cycles, cycles
