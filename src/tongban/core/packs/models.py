"""Pydantic building blocks of pack files: bilingual text, ids, references, the manifest
(`pack.yaml`) and the core section files (regions, departments, roles, the demo cast).

Fields that define or reference pack ids carry a marker in their annotation
(`Annotated[str, Defines("department")]`, `Annotated[str, RefersTo("region")]`); the
loader walks every validated file, collects them with their position and checks every
reference against the whole pack. A later section gets cross-checking for free by
annotating its own fields the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# The pack format this code reads. A pack declares the version it was written for.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Defines:
    """Marks a field whose value is the id of a `kind` of thing this file defines."""

    kind: str


@dataclass(frozen=True)
class RefersTo:
    """Marks a field (a string or a list of strings) naming things of `kind` defined elsewhere."""

    kind: str


class PackModel(BaseModel):
    """Base of every pack model: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Text(PackModel):
    """Bilingual user-facing text: `{zh: 民政局, en: Civil Affairs Bureau}`; both are required."""

    zh: NonEmpty
    en: NonEmpty


def _code_from_yaml(value: Any) -> Any:
    # `code: 330203` is read by YAML as an integer; region codes are strings of digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


RegionCode = Annotated[
    str, BeforeValidator(_code_from_yaml), StringConstraints(pattern=r"^(\d{6}|\d{9}|\d{12})$")
]

# Stable ids: lower-case words joined by dots, dashes or underscores (dept.haishu.mca, officer).
ID_PATTERN = r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
StableId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]

VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")


class Source(PackModel):
    """Where the content came from and when it was taken (so others can check and update it)."""

    name: NonEmpty
    url: str | None = None
    version: str | None = None
    retrieved: str | None = None
    licence: str | None = None
    notes: str | None = None


class PackManifest(PackModel):
    """`pack.yaml`: what the pack is."""

    id: StableId
    schema_version: int
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v),
                       StringConstraints(pattern=VERSION_RE.pattern)]
    title: Text
    description: Text | None = None
    sources: list[Source] = Field(default_factory=list)


class SectionFile(PackModel):
    """Keys every section file may carry besides its list: where its content came from."""

    schema_version: int | None = None
    sources: list[Source] = Field(default_factory=list)
    notes: str | None = None


# --- regions.yaml -------------------------------------------------------------------------

RegionLevel = Literal["province", "city", "county", "street", "community"]


class RegionEntry(PackModel):
    """One node of the region tree (区划): GB/T 2260 codes to county, statistical codes below."""

    code: Annotated[RegionCode, Defines("region")]
    level: RegionLevel
    parent: Annotated[RegionCode | None, RefersTo("region")] = None
    name: Text
    demo: bool = False  # invented for the demo (not checked against an official register)
    # 帮办热线: the help line of this region and the regions below it (digits, dashes), e.g. "0574-12345"
    help_line: Annotated[str, StringConstraints(pattern=r"^[0-9][0-9-]{2,19}$")] | None = None


class RegionsFile(SectionFile):
    regions: list[RegionEntry]


# --- departments.yaml ---------------------------------------------------------------------

DepartmentKind = Literal["government", "street_office", "utility", "agency"]


class DepartmentEntry(PackModel):
    """部门: a department, street office, agency or utility, sitting in one region."""

    id: Annotated[StableId, Defines("department")]
    name: Text
    kind: DepartmentKind
    region: Annotated[RegionCode, RefersTo("region")]
    short_name: Text | None = None


class DepartmentsFile(SectionFile):
    departments: list[DepartmentEntry]


# --- roles.yaml ---------------------------------------------------------------------------


class RoleEntry(PackModel):
    """A role: a named bundle of permission codes from `core.access.PERMISSIONS`."""

    id: Annotated[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)],
                  Defines("role")]
    name: Text
    description: Text
    staff: bool
    permissions: Annotated[list[str], RefersTo("permission")]


class RolesFile(SectionFile):
    roles: list[RoleEntry]


# --- cast.yaml (demo only) ----------------------------------------------------------------

Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{2,63}$")]


class CastMember(PackModel):
    """A fixed demo login: a resident (with a valid ID number) or a staff member."""

    username: Annotated[Username, Defines("account")]
    kind: Literal["resident", "staff"]
    display_name: NonEmpty
    about: Text
    password: Annotated[str, StringConstraints(min_length=8)] | None = None
    # residents
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{17}[\dX]$")] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^1\d{10}$")] | None = None
    sex: Literal["male", "female"] | None = None  # checked against the ID number's sequence digit
    # staff
    department: Annotated[StableId | None, RefersTo("department")] = None
    roles: Annotated[list[str], RefersTo("role")] = Field(default_factory=list)
    # where a resident lives (a community) or the area a staff member covers (default: the department's)
    region: Annotated[RegionCode | None, RefersTo("region")] = None
    locale: Literal["zh_CN", "en"] | None = None


class CastFile(SectionFile):
    password: Annotated[str, StringConstraints(min_length=8)]
    cast: list[CastMember]
