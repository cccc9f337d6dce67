"""Reading, checking and applying packs.

A pack is a folder: `pack.yaml` (the manifest) plus section files. Each section is
registered once (`register_section`) with the Pydantic model of its file(s), an optional
`check` for rules a model cannot express alone, and an `apply` that upserts it into the
database. Loading reads every file with PyYAML's node API so each key knows its line,
validates it, collects the ids it defines and the references it makes (fields marked
`Defines` / `RefersTo` in the models), checks them across the whole pack and only then
applies the sections in order, in the caller's transaction. Any problem refuses the
pack whole: `PackError` lists them all, each with file, line, column and the id at fault.

Slices add their own sections from the modules their declaration lists (`pack_sections`,
core.slices; imported on first use), an installed distribution through its own slice.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.core.audit.log import record
from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.core.identity.models import PackRecord
from tongban.core.packs.models import SCHEMA_VERSION, Defines, PackManifest, RefersTo

log = logging.getLogger(__name__)

MANIFEST = "pack.yaml"
Path_ = tuple[str | int, ...]  # a path into a YAML document: ("regions", 3, "name", "en")


# --- problems -----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a pack, pointing at where it is."""

    file: str
    line: int | None
    column: int | None
    id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {f'[{self.id}] ' if self.id else ''}{self.message}"


class PackError(Invalid):
    """A pack refused whole; `problems` says every reason, with file and line."""

    type_ = "pack-invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.column or 0, p.message))
        super().__init__(N_("The pack has %(count)s problem(s)"), field="pack", count=len(self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# --- YAML with positions ------------------------------------------------------------------


@dataclass
class Document:
    """A parsed YAML file: plain data plus the 1-based (line, column) of every key and item."""

    data: Any
    marks: dict[Path_, tuple[int, int]]
    problems: list[Problem] = field(default_factory=list)

    def mark(self, path: Path_) -> tuple[int, int] | None:
        """Position of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get(())


# libyaml's parser (PyYAML's C binding, in its wheels) when present: the same nodes and marks,
# a tenth of the time — every pack load (and every test loading the demo) parses ~60 files. A
# file it refuses is parsed again by the Python parser, whose messages name the character at fault.
_FAST: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def parse_yaml(text: str, file: str) -> Document:
    """Parse YAML keeping positions; a syntax error becomes a Problem with its line."""
    if _FAST is not None:
        doc = _parse(_FAST, text, file)
        if not doc.problems or not any(p.message.startswith("YAML") for p in doc.problems):
            return doc
    return _parse(yaml.SafeLoader, text, file)


def _parse(kind: type[yaml.SafeLoader], text: str, file: str) -> Document:
    loader = kind(text)
    doc = Document(data=None, marks={(): (1, 1)})
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _build(loader, node, (), doc, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        doc.problems.append(Problem(
            file, mark.line + 1 if mark else None, mark.column + 1 if mark else None, None,
            f"YAML syntax error: {exc.problem or exc.context}",
        ))
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(file, None, None, None, f"YAML error: {exc}"))
    finally:
        loader.dispose()
    return doc


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, doc: Document, file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # `<<: *anchor` merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                doc.problems.append(Problem(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                            None, "a key must be a plain value"))
                continue
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                doc.problems.append(Problem(file, *position, None, f"key {key!r} appears twice in one mapping"))
            doc.marks[(*path, key)] = position
            out[key] = _build(loader, value_node, (*path, key), doc, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            doc.marks[(*path, i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_build(loader, item, (*path, i), doc, file))
        return items
    return loader.construct_object(node, deep=True)


# --- sections -----------------------------------------------------------------------------


@dataclass
class Changes:
    """What applying a section did (rows created, updated, left as they were)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def upsert(self, session: Session, model: type[Any], code: str, values: dict[str, Any]) -> None:
        """Write the pack's row `code` of `model` (keyed by its `code` column): created when missing,
        the fields of `values` that differ updated, else left as it was; counted either way."""
        row = session.get(model, code)
        if row is None:
            session.add(model(code=code, **values))
            self.count("created")
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            self.count("updated")
        else:
            self.count("unchanged")


CheckFn = Callable[["PackFile", "Pack"], Iterable[Problem]]
ApplyFn = Callable[[Session, list["PackFile"], "Pack"], Changes]
WarnFn = Callable[["Pack"], list[str]]


@dataclass(frozen=True)
class Section:
    """A kind of pack file: its model, its extra checks and how it is written to the database."""

    name: str
    model: type[BaseModel]
    files: tuple[str, ...]
    apply: ApplyFn | None
    check: CheckFn | None
    order: int
    demo_only: bool
    description: str
    id_keys: tuple[str, ...]
    warnings: WarnFn | None = None


_SECTIONS: dict[str, Section] = {}
_VOCABULARIES: dict[str, Callable[[], Iterable[str]]] = {}
_discovered = False


def register_section(
    name: str,
    model: type[BaseModel],
    *,
    files: str | Iterable[str] | None = None,
    apply: ApplyFn | None = None,
    check: CheckFn | None = None,
    order: int = 100,
    demo_only: bool = False,
    description: str = "",
    id_keys: Iterable[str] = ("id", "code", "username"),
    warnings: WarnFn | None = None,
) -> Section:
    """Declare a section. `files` are glob patterns relative to the pack (default `NAME.yaml`);
    sections are applied in ascending `order`; `demo_only` sections are applied only by
    `tongban demo load`. Ids and references come from `Defines` / `RefersTo` markers in
    `model`; `check` adds rules of its own; `warnings` names what loads but may not mean what was
    meant (`tongban pack check` prints them). Registering the same name again replaces it."""
    patterns = (files,) if isinstance(files, str) else tuple(files or (f"{name}.yaml",))
    section = Section(name=name, model=model, files=patterns, apply=apply, check=check, order=order,
                      demo_only=demo_only, description=description, id_keys=tuple(id_keys), warnings=warnings)
    _SECTIONS[name] = section
    return section


def pack_warnings(pack: Pack) -> list[str]:
    """What a checked pack's sections warn about (it loads, but an operator should look)."""
    out: list[str] = []
    for section in sections():
        if section.warnings is not None and pack.files_of(section.name):
            out += section.warnings(pack)
    return out


def register_vocabulary(kind: str, values: Callable[[], Iterable[str]]) -> None:
    """Ids of `kind` that exist outside any pack (e.g. the permission codes of `core.access`)."""
    _VOCABULARIES[kind] = values


def sections() -> list[Section]:
    """Every registered section, in the order they are applied."""
    _discover()
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    from tongban.core import slices

    slices.load_pack_sections()


# --- a read pack --------------------------------------------------------------------------


@dataclass
class PackFile:
    """One section file: its validated model, and positions to point problems at."""

    path: str  # relative to the pack, with forward slashes
    section: Section
    document: Document
    model: Any = None

    def problem(self, path: Path_, message: str, id: str | None = None) -> Problem:
        """A problem at `path` inside this file (the id at fault is found if not given)."""
        mark = self.document.mark(path)
        return Problem(self.path, mark[0] if mark else None, mark[1] if mark else None,
                       id if id is not None else _id_at(self.document.data, path, self.section.id_keys),
                       message)

    def validation_problems(self, exc: ValidationError) -> list[Problem]:
        """The problems of a model validation of this file, each at its key."""
        return list(_validation_problems(self, exc))


@dataclass(frozen=True)
class Definition:
    kind: str
    id: str
    file: PackFile
    path: Path_
    entry: Any  # the model object holding the defining field (a RegionEntry, a RoleEntry …)


@dataclass
class Pack:
    """A pack read from disk and fully checked."""

    root: Path
    manifest: PackManifest
    files: list[PackFile]
    digest: str
    definitions: dict[tuple[str, str], Definition]

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> str:
        return self.manifest.version

    def files_of(self, section: str) -> list[PackFile]:
        return [f for f in self.files if f.section.name == section]

    def get(self, kind: str, id: str) -> Any:
        """The entry defining `kind` `id` in this pack, or None."""
        d = self.definitions.get((kind, id))
        return d.entry if d else None

    def ids(self, kind: str) -> list[str]:
        return [i for (k, i) in self.definitions if k == kind]


def _id_at(data: Any, path: Path_, keys: tuple[str, ...]) -> str | None:
    found: str | None = None
    node = data
    for step in (None, *path):
        if step is not None:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        if isinstance(node, dict):
            for k in keys:
                if isinstance(node.get(k), str | int) and not isinstance(node.get(k), bool):
                    found = str(node[k])
                    break
    return found


def _validation_problems(pf: PackFile, exc: ValidationError) -> Iterator[Problem]:
    for err in exc.errors():
        loc: Path_ = tuple(err["loc"])
        key = loc[-1] if loc else None
        if err["type"] == "missing":
            yield pf.problem(loc[:-1], f"missing required key {key!r}")
        elif err["type"] == "extra_forbidden":
            yield pf.problem(loc, f"unknown key {key!r}")
        else:
            label = ".".join(str(s) for s in loc) or "file"
            yield pf.problem(loc, f"{label}: {err['msg']}")


validation_problems = _validation_problems  # for files read outside a pack (`tongban calendar load`)


def _markers(model: BaseModel, path: Path_) -> Iterator[tuple[Defines | RefersTo, Any, Path_]]:
    """Every (marker, value, path) of Defines/RefersTo fields in a validated model, recursively."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        for m in info.metadata:
            if isinstance(m, Defines | RefersTo):
                yield m, value, (*path, name)
        yield from _nested(value, (*path, name))


def _nested(value: Any, path: Path_) -> Iterator[tuple[Defines | RefersTo, Any, Path_]]:
    if isinstance(value, BaseModel):
        yield from _markers(value, path)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _nested(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nested(v, (*path, k))


def _defined_kinds(annotation: Any, seen: set[Any] | None = None) -> set[str]:
    """The kinds of id a model (or a type containing models) can define, from its annotations."""
    seen = set() if seen is None else seen
    if annotation in seen:
        return set()
    seen.add(annotation)
    kinds: set[str] = set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for info in annotation.model_fields.values():
            kinds |= {m.kind for m in info.metadata if isinstance(m, Defines)}
            kinds |= _defined_kinds(info.annotation, seen)
        return kinds
    for arg in get_args(annotation):
        kinds |= _defined_kinds(arg, seen)
    return kinds


def _entry_at(model: BaseModel, path: Path_) -> Any:
    """The model object owning the field at `path` (the list entry that defines an id)."""
    node: Any = model
    for step in path[:-1]:
        node = node[step] if isinstance(step, int) or isinstance(node, dict) else getattr(node, step)
    return node


def _digest(root: Path, files: list[str]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        content = (root / rel).read_bytes()
        h.update(rel.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    return h.hexdigest()


def _section_for(rel: str) -> Section | None:
    for section in sections():
        if any(fnmatch.fnmatchcase(rel, pattern) for pattern in section.files):
            return section
    return None


def read_pack(root: str | Path) -> Pack:
    """Read and check a pack folder without touching the database; raise PackError if broken."""
    root = Path(root)
    if not root.is_dir():
        raise PackError([Problem(str(root), None, None, None, "not a folder")])
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise PackError([Problem(MANIFEST, None, None, None, "the pack has no pack.yaml")])
    problems: list[Problem] = []

    manifest_doc = _read(root, MANIFEST)
    problems += manifest_doc.problems
    manifest: PackManifest | None = None
    if not manifest_doc.problems:
        mf = PackFile(MANIFEST, Section("pack", PackManifest, (MANIFEST,), None, None, 0, False, "", ("id",)),
                      manifest_doc)
        try:
            manifest = PackManifest.model_validate(_as_mapping(manifest_doc, MANIFEST, problems))
        except ValidationError as exc:
            problems += _validation_problems(mf, exc)
        if manifest is not None and manifest.schema_version != SCHEMA_VERSION:
            problems.append(mf.problem(("schema_version",),
                                       f"schema_version {manifest.schema_version} is not supported "
                                       f"(this tongban reads {SCHEMA_VERSION})"))

    files: list[PackFile] = []
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.suffix in (".yaml", ".yml") and p.name != MANIFEST
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))
    for rel in rels:
        section = _section_for(rel)
        if section is None:
            known = ", ".join(sorted({p for s in sections() for p in s.files}))
            problems.append(Problem(rel, None, None, None, f"no section reads this file (known: {known})"))
            continue
        doc = _read(root, rel)
        pf = PackFile(rel, section, doc)
        files.append(pf)
        problems += doc.problems
        if doc.problems:
            continue
        data = _as_mapping(doc, rel, problems)
        if data is None:
            continue
        try:
            pf.model = section.model.model_validate(data)
        except ValidationError as exc:
            problems += _validation_problems(pf, exc)
            continue
        file_schema = getattr(pf.model, "schema_version", None)
        if file_schema is not None and file_schema != SCHEMA_VERSION:
            problems.append(pf.problem(("schema_version",), f"schema_version {file_schema} is not supported"))

    valid = [f for f in files if f.model is not None]
    definitions: dict[tuple[str, str], Definition] = {}
    references: list[tuple[PackFile, str, str, Path_]] = []
    for pf in valid:
        for marker, value, path in _markers(pf.model, ()):
            if value is None:
                continue
            if isinstance(marker, Defines):
                key = (marker.kind, str(value))
                if key in definitions:
                    first = definitions[key]
                    line = first.file.document.mark(first.path)
                    problems.append(pf.problem(path, f"duplicate {marker.kind} id {value!r} (first defined in "
                                                     f"{first.file.path}:{line[0] if line else '?'})",
                                               id=str(value)))
                else:
                    definitions[key] = Definition(marker.kind, str(value), pf, path, _entry_at(pf.model, path))
            else:
                values = value if isinstance(value, list | tuple) else [value]
                for i, v in enumerate(values):
                    references.append((pf, marker.kind, str(v), (*path, i) if values is value else path))

    vocabularies = {kind: set(fn()) for kind, fn in _VOCABULARIES.items()}
    # A file that did not validate defines nothing we can see: do not bury its own problems
    # under every reference to the ids it would have defined.
    unknowable = {kind for f in files if f.model is None for kind in _defined_kinds(f.section.model)}
    for pf, kind, ref, path in references:
        if kind in vocabularies:
            if ref not in vocabularies[kind]:
                problems.append(pf.problem(path, f"unknown {kind} {ref!r}"))
        elif (kind, ref) not in definitions and kind not in unknowable:
            problems.append(pf.problem(path, f"{kind} {ref!r} is not defined in this pack"))

    if manifest is None:
        raise PackError(problems)
    pack = Pack(root=root, manifest=manifest, files=valid, digest=_digest(root, [MANIFEST, *rels]),
                definitions=definitions)
    for pf in valid:
        if pf.section.check is not None:
            problems += pf.section.check(pf, pack)
    if problems:
        raise PackError(problems)
    return pack


def _read(root: Path, rel: str) -> Document:
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Document(None, {}, [Problem(rel, None, None, None, f"not UTF-8 text ({exc.reason})")])
    return parse_yaml(text, rel)


def _as_mapping(doc: Document, rel: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(doc.data, dict):
        problems.append(Problem(rel, 1, 1, None, "the file must be a mapping of keys to values"))
        return None
    return doc.data


# --- loading into the database ------------------------------------------------------------


@dataclass
class LoadReport:
    """What `load_pack` did: per section changes and what happened to the pack record."""

    pack_id: str
    version: str
    digest: str
    record: str  # new | unchanged
    sections: dict[str, Changes] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # demo-only sections not applied

    @property
    def changed(self) -> bool:
        return self.record == "new" or any(c.changed for c in self.sections.values())


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def load_pack(session: Session, root: str | Path, *, include_demo: bool = False,
              actor: str = "system") -> LoadReport:
    """Check the pack at `root` and upsert it in `session`'s transaction (the caller commits).

    Loading the same pack twice changes nothing; a newer version updates what changed; an
    older version, or the same version with different content, is refused."""
    pack = read_pack(root)
    _check_version(session, pack)
    report = LoadReport(pack.id, pack.version, pack.digest, record="unchanged")
    for section in sections():
        if section.apply is None:
            continue
        if section.demo_only and not include_demo:
            if pack.files_of(section.name):
                report.skipped.append(section.name)
            continue
        files = pack.files_of(section.name)
        if files:
            report.sections[section.name] = section.apply(session, files, pack)
            session.flush()

    existing = session.scalar(select(PackRecord).where(PackRecord.pack_id == pack.id,
                                                       PackRecord.version == pack.version))
    if existing is None:
        session.execute(update(PackRecord).where(PackRecord.pack_id == pack.id).values(current=False))
        session.add(PackRecord(pack_id=pack.id, version=pack.version, digest=pack.digest,
                               title=pack.manifest.title.model_dump(), current=True))
        report.record = "new"
    if report.changed:
        record(session, actor=actor, action="pack.load", subject=f"pack:{pack.id}",
               details={"version": pack.version, "digest": pack.digest,
                        "sections": {k: vars(v) for k, v in report.sections.items()}})
    session.flush()
    return report


def _check_version(session: Session, pack: Pack) -> None:
    mf = PackFile(MANIFEST, Section("pack", PackManifest, (MANIFEST,), None, None, 0, False, "", ("id",)),
                  _read(pack.root, MANIFEST))
    for rec in session.scalars(select(PackRecord).where(PackRecord.pack_id == pack.id)):
        if rec.version == pack.version and rec.digest != pack.digest:
            raise PackError([mf.problem(("version",), f"version {pack.version} was already loaded with "
                                                      "different content; raise the version", id=pack.id)])
        if rec.current and _version_key(rec.version) > _version_key(pack.version):
            raise PackError([mf.problem(("version",), f"version {pack.version} is older than the loaded "
                                                      f"version {rec.version}", id=pack.id)])


def current_pack_version(session: Session, pack_id: str | None = None) -> tuple[str, str] | None:
    """(pack_id, version) of the current pack (the one loaded last, or of `pack_id`), or None.

    Runs that depend on pack content (applications, screening runs) record this."""
    q = select(PackRecord).where(PackRecord.current.is_(True))
    if pack_id is not None:
        q = q.where(PackRecord.pack_id == pack_id)
    rec = session.scalars(q.order_by(PackRecord.loaded_at.desc(), PackRecord.id.desc()).limit(1)).first()
    return (rec.pack_id, rec.version) if rec else None


def list_packs(session: Session) -> list[PackRecord]:
    """Every pack version ever loaded, newest first."""
    return list(session.scalars(select(PackRecord).order_by(PackRecord.loaded_at.desc(), PackRecord.id.desc())))


def resolve_pack_dir(pack_dir: Path | str) -> Path:
    """A relative pack folder is taken from the working directory, else from the source checkout."""
    path = Path(pack_dir)
    if path.is_absolute() or path.exists():
        return path
    import tongban

    checkout = Path(tongban.__file__).resolve().parents[2] / path
    return checkout if checkout.exists() else path
