"""Whether a worker file starts a NestJS application.

A worker becomes a service with a route and a health check, so its file must start an application that serves a
port: what runs when the file is loaded (its top-level code, and the functions that code calls, followed into the
files it imports by relative path) calls NestFactory.create or NestFactory.createMicroservice. Files are parsed with
tree-sitter's TypeScript grammar, so a call written in a comment or a string does not count."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import tree_sitter_typescript
from tree_sitter import Language, Node, Parser

FACTORY = "NestFactory"
FACTORY_PACKAGE = "@nestjs/core"
# Each of these serves a port, which App Runner's and the load balancer's health checks reach.
SERVING_METHODS = ("create", "createMicroservice")
# A standalone application context serves no port: a service that starts only one fails its health check.
CONTEXT_METHOD = "createApplicationContext"
# A bootstrap helper sits a file or two away from its worker; the bound keeps a wide import graph from being read.
MAX_IMPORT_HOPS = 4
# What `from './x'` may name, as TypeScript resolves it; './x.js' names x.ts first (NodeNext module resolution).
RESOLVED_SUFFIXES = ("", ".ts", "/index.ts")
COMPILED_SUFFIXES = {".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}
UNFOLLOWED_SHOWN = 3

# At the top level, what only defines (its body runs when called, not when the file is loaded) or decorates.
DEFINITIONS = frozenset({"function_declaration", "generator_function_declaration", "class_declaration",
                         "abstract_class_declaration", "class", "decorator"})
FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "generator_function"})
# Wrappers around a callee that do not change what is called: `await F.create<T>(M)` parses as a call of
# `await F.create`, `(f)()` and `f!()` call f.
TRANSPARENT = frozenset({"await_expression", "parenthesized_expression", "non_null_expression"})
DEFAULT_EXPORT = "default"
NAMESPACE = "*"
ANONYMOUS_DEFAULT = "(default export)"


@dataclass(frozen=True)
class EntryCheck:
    """What reading a worker file found."""

    starts: bool                      # NestFactory.create or createMicroservice runs when it is loaded
    context_only: bool = False        # only NestFactory.createApplicationContext does
    unfollowed: tuple[str, ...] = ()  # calls into code this check does not read: packages, path aliases, ...

    def refusal(self) -> str:
        """Why the file is not an entry point: what was looked for, and what was seen instead."""
        wanted = " or ".join(f"{FACTORY}.{method}" for method in SERVING_METHODS)
        text = (f"does not start a NestJS application: no call of {wanted} runs when it is loaded (read: its "
                "top-level code and the functions it calls, through relative imports)")
        if self.context_only:
            text += (f"; it calls only {FACTORY}.{CONTEXT_METHOD}, which listens on no port, so its service would "
                     "fail its health check")
        if self.unfollowed:
            more = len(self.unfollowed) - UNFOLLOWED_SHOWN
            text += f"; not followed: {', '.join(self.unfollowed[:UNFOLLOWED_SHOWN])}"
            text += f" and {more} more" if more > 0 else ""
        return text


@dataclass
class _Module:
    """What a parsed file declares at its top level."""

    path: Path
    program: Node
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)   # local name -> (specifier, name there)
    functions: dict[str, Node] = field(default_factory=dict)             # local name -> function node
    exports: dict[str, str] = field(default_factory=dict)                # exported name -> local name
    reexports: dict[str, tuple[str, str]] = field(default_factory=dict)  # exported name -> (specifier, name there)
    star_exports: list[str] = field(default_factory=list)                # `export * from` specifiers
    factories: set[str] = field(default_factory=lambda: {FACTORY})       # local names of NestFactory


@dataclass
class _Walk:
    """One entry file's reading: what was visited (cycles end there) and what was seen on the way."""

    seen: set[tuple[Path, str]] = field(default_factory=set)
    context: bool = False
    unfollowed: list[str] = field(default_factory=list)


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_typescript.language_typescript()))


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace")


def _string_value(node: Node) -> str:
    return "".join(_text(part) for part in node.named_children if part.type == "string_fragment")


class EntryPoints:
    """Checks worker files inside one monorepo; each file is read and parsed once."""

    def __init__(self, monorepo_root: Path):
        self._root = monorepo_root.resolve()
        self._modules: dict[Path, _Module] = {}

    def check(self, path: Path) -> EntryCheck:
        """Raises OSError when the file cannot be read."""
        module = self._parse(path.resolve())
        walk = _Walk()
        starts = self._reaches(module, module.program, top_level=True, hops=0, walk=walk)
        return EntryCheck(starts=starts, context_only=walk.context and not starts,
                          unfollowed=tuple(dict.fromkeys(walk.unfollowed)))

    def _parse(self, path: Path) -> _Module:
        if path not in self._modules:
            self._modules[path] = _read_module(path, _parser().parse(path.read_bytes()).root_node)
        return self._modules[path]

    def _reaches(self, module: _Module, node: Node, *, top_level: bool, hops: int, walk: _Walk) -> bool:
        """Whether running `node` (the file's top level, or a function's body) calls a serving factory."""
        for call in _calls(node, top_level):
            callee = _unwrap(call.child_by_field_name("function"))
            method = _factory_method(module, callee)
            if method in SERVING_METHODS:
                return True
            walk.context |= method == CONTEXT_METHOD
            if method is None and self._follows(module, callee, hops, walk):
                return True
        return False

    def _follows(self, module: _Module, callee: Node, hops: int, walk: _Walk) -> bool:
        """Whether the function `callee` names reaches a serving factory: a local one, or one it imports."""
        if callee.type == "identifier":
            return self._reaches_name(module, _text(callee), hops, walk)
        if callee.type != "member_expression":
            return False
        owner, member = callee.child_by_field_name("object"), callee.child_by_field_name("property")
        specifier, imported = module.imports.get(_text(owner), ("", "")) if owner.type == "identifier" else ("", "")
        if imported != NAMESPACE:
            return False
        return self._reaches_export(module, specifier, _text(member), f"{_text(owner)}.{_text(member)}()", hops, walk)

    def _reaches_name(self, module: _Module, name: str, hops: int, walk: _Walk) -> bool:
        if (module.path, name) in walk.seen:
            return False
        walk.seen.add((module.path, name))
        if name in module.functions:
            return self._reaches(module, module.functions[name], top_level=False, hops=hops, walk=walk)
        if name in module.imports:
            specifier, imported = module.imports[name]
            return self._reaches_export(module, specifier, imported, f"{name}()", hops, walk)
        return False

    def _reaches_export(self, module: _Module, specifier: str, exported: str, label: str, hops: int,
                        walk: _Walk) -> bool:
        """Whether `exported` of the file `specifier` names (from `module`) reaches a serving factory."""
        if not specifier.startswith("."):
            walk.unfollowed.append(f"{label} from '{specifier}'")
            return False
        target = self._resolve(module.path, specifier)
        why = ("no such file in the monorepo" if target is None else
               f"more than {MAX_IMPORT_HOPS} imports away" if hops >= MAX_IMPORT_HOPS else "")
        other = None if why else self._read(target)
        if other is None:
            walk.unfollowed.append(f"{label} from '{specifier}' ({why or 'cannot be read'})")
            return False
        return self._reaches_exported(other, exported, hops + 1, walk)

    def _reaches_exported(self, module: _Module, exported: str, hops: int, walk: _Walk) -> bool:
        if (module.path, f"export {exported}") in walk.seen:
            return False
        walk.seen.add((module.path, f"export {exported}"))
        if exported in module.exports:
            return self._reaches_name(module, module.exports[exported], hops, walk)
        if exported in module.reexports:
            specifier, name = module.reexports[exported]
            return self._reaches_export(module, specifier, name, f"{exported}()", hops, walk)
        return any(self._reaches_export(module, specifier, exported, f"{exported}()", hops, walk)
                   for specifier in module.star_exports)

    def _resolve(self, importer: Path, specifier: str) -> Path | None:
        base = str(importer.parent / specifier)
        compiled = next((suffix for suffix in COMPILED_SUFFIXES if base.endswith(suffix)), None)
        candidates = [base.removesuffix(compiled) + COMPILED_SUFFIXES[compiled], base] if compiled else \
            [base + suffix for suffix in RESOLVED_SUFFIXES]
        for candidate in map(Path, candidates):
            if candidate.is_file() and candidate.resolve().is_relative_to(self._root):
                return candidate.resolve()
        return None

    def _read(self, path: Path) -> _Module | None:
        try:
            return self._parse(path)
        except OSError:
            return None


def _read_module(path: Path, program: Node) -> _Module:
    module = _Module(path, program)
    for statement in program.named_children:
        _declare(module, statement)
    return module


def _declare(module: _Module, statement: Node) -> list[str]:
    """Records what `statement` imports, exports and names as a function; returns the names it declares."""
    kind = statement.type
    if kind == "import_statement":
        _read_import(module, statement)
    elif kind == "export_statement":
        _read_export(module, statement)
    elif kind in ("function_declaration", "generator_function_declaration"):
        name = _text(statement.child_by_field_name("name"))
        module.functions[name] = statement
        return [name]
    elif kind in ("lexical_declaration", "variable_declaration"):
        names = []
        for declarator in (d for d in statement.named_children if d.type == "variable_declarator"):
            name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
            if name.type == "identifier":
                names.append(_text(name))
                if value is not None and _unwrap(value).type in FUNCTION_VALUES:
                    module.functions[_text(name)] = value
        return names
    elif kind in DEFINITIONS and (name := statement.child_by_field_name("name")) is not None:
        return [_text(name)]
    return []


def _read_import(module: _Module, statement: Node) -> None:
    source = statement.child_by_field_name("source")
    clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
    if source is None or clause is None or _has_token(statement, "type"):  # `import type`: nothing to call
        return
    specifier = _string_value(source)

    def bind(local: Node, imported: str) -> None:
        module.imports[_text(local)] = (specifier, imported)
        if specifier == FACTORY_PACKAGE and imported == FACTORY:
            module.factories.add(_text(local))

    for part in clause.named_children:
        if part.type == "identifier":
            bind(part, DEFAULT_EXPORT)
        elif part.type == "namespace_import":
            bind(part.named_children[-1], NAMESPACE)
        elif part.type == "named_imports":
            for item in (i for i in part.named_children if i.type == "import_specifier" and not _has_token(i, "type")):
                name = item.child_by_field_name("name")
                bind(item.child_by_field_name("alias") or name, _text(name))


def _read_export(module: _Module, statement: Node) -> None:
    source = statement.child_by_field_name("source")
    declaration = statement.child_by_field_name("declaration")
    value = statement.child_by_field_name("value")
    default = _has_token(statement, "default")
    if declaration is not None:
        for name in _declare(module, declaration):
            module.exports[DEFAULT_EXPORT if default else name] = name
    elif value is not None:
        if value.type == "identifier":
            module.exports[DEFAULT_EXPORT] = _text(value)
        elif _unwrap(value).type in FUNCTION_VALUES:
            module.functions[ANONYMOUS_DEFAULT] = value
            module.exports[DEFAULT_EXPORT] = ANONYMOUS_DEFAULT
    clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
    specifier = _string_value(source) if source is not None else None
    if clause is None:
        if specifier is not None and not any(c.type == "namespace_export" for c in statement.named_children):
            module.star_exports.append(specifier)
        return
    for item in (i for i in clause.named_children if i.type == "export_specifier"):
        name = _text(item.child_by_field_name("name"))
        alias = item.child_by_field_name("alias")
        exported = _text(alias) if alias is not None else name
        if specifier is None:
            module.exports[exported] = name
        else:
            module.reexports[exported] = (specifier, name)


def _calls(node: Node, top_level: bool) -> Iterator[Node]:
    """The call expressions that running `node` may evaluate; at the top level, none inside a definition."""
    pending = [node]
    while pending:
        current = pending.pop()
        if top_level and _defines(current):
            continue
        if current.type == "call_expression":
            yield current
        pending.extend(reversed(current.named_children))


def _defines(node: Node) -> bool:
    if node.type in DEFINITIONS:
        return True
    parent = node.parent
    # `const run = async () => ...` and `export default function () {}` define a function; an IIFE or a callback
    # (`bootstrap().catch(() => ...)`) runs.
    return node.type in FUNCTION_VALUES and parent is not None and parent.type in ("variable_declarator",
                                                                                   "export_statement")


def _unwrap(node: Node) -> Node:
    while node.type in TRANSPARENT and node.named_child_count:
        node = node.named_children[-1]
    return node


def _factory_method(module: _Module, callee: Node) -> str | None:
    """`create` for `NestFactory.create` (or an alias of NestFactory, or `core.NestFactory.create`), else None."""
    if callee.type != "member_expression":
        return None
    owner = callee.child_by_field_name("object")
    if owner.type == "identifier" and _text(owner) in module.factories or \
            owner.type == "member_expression" and _text(owner.child_by_field_name("property")) == FACTORY:
        return _text(callee.child_by_field_name("property"))
    return None


def _has_token(node: Node, token: str) -> bool:
    return any(child.type == token for child in node.children)
