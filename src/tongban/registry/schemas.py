"""Request and response models of the registry API (documented in OpenAPI).

Personal identifiers travel only in request bodies (`PersonSearch.id_number`), never in paths
or query strings; responses carry masked values unless the read stated a purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from tongban.core.text import FreeText

# The fields of a person a staff read may ask for (`fields`); `id` and `masked` always come back.
PersonField = Literal[
    "id_number", "name", "sex", "birth_date", "phone", "hukou_region_code", "region_code", "address", "alive",
    "death_date", "marital_status", "disability_type", "disability_grade", "employment_status",
    "student_status", "household_id",
]


class PersonOut(BaseModel):
    """A person as the caller may see them: masked unless read for a purpose; fields their
    department's basis does not cover (or that were not asked for) are null."""

    id: int
    id_number: str | None = Field(None, description="Masked: first 6 + last 4 (330203********1234).")
    name: str | None = Field(None, description="Masked: the surname and a star per character (张*).")
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str | None = Field(None, description="Masked: 138****1234.")
    hukou_region_code: str | None = None
    region_code: str | None = None
    address: str | None = Field(None, description="Masked: cut after the road (解放南路 ***).")
    alive: bool | None = None
    death_date: dt.date | None = None
    marital_status: str | None = None
    disability_type: str | None = None
    disability_grade: int | None = None
    employment_status: str | None = None
    student_status: str | None = None
    household_id: int | None = None
    masked: bool = Field(description="True when some personal fields are masked or withheld.")


class MemberOut(PersonOut):
    relationship: str = Field(description="head, spouse, child, parent, grandchild, sibling or other.")


class HouseholdOut(BaseModel):
    id: int
    household_number: str
    region_code: str
    housing_area_m2: int | None
    vehicles: int
    members: list[MemberOut]


class PersonSearch(BaseModel):
    """Search criteria: an ID number, or a name with a birth date, or an address (road, number),
    optionally narrowed to a region (a community or street code). Kept out of the audit chain."""

    model_config = {"extra": "forbid"}

    id_number: str | None = Field(None, max_length=18, description="Exact resident ID number.")
    name: FreeText | None = Field(None, max_length=50)
    birth_date: dt.date | None = None
    road: FreeText | None = Field(None, max_length=100)
    number: FreeText | None = Field(None, max_length=20)
    region_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,2}$",
                                    description="Narrow to a district, street or community (in your region).")


class Unmask(BaseModel):
    """An unmasked read: the purpose is written to the audit chain."""

    model_config = {"extra": "forbid"}

    purpose: FreeText = Field(min_length=1, max_length=500, description="Why the full record is needed (audited).")
    fields: list[PersonField] | None = Field(
        None, description="Only these fields (minimum necessary); all the basis allows when omitted.")


class CertificateOut(BaseModel):
    id: int
    type_code: str
    number: str
    issuer_name: str
    issuer_code: str | None
    issue_date: dt.date
    valid_from: dt.date | None
    valid_to: dt.date | None
    status: str
    data: dict[str, Any]
    holder: dict[str, Any] = Field(description="`relation` (self or ward), `person_id` and `name` of the holder.")


class CorrectionIn(BaseModel):
    model_config = {"extra": "forbid"}

    field: str = Field(description="name, phone, marital_status, disability_type, disability_grade or "
                                   "employment_status.")
    requested_value: FreeText = Field(min_length=1, max_length=200, description=(
        "The new value; a name follows the person-name rule (docs/packs.md, Character rules)."))
    reason: FreeText = Field(min_length=1, max_length=500)


class CorrectionOut(BaseModel):
    id: int
    person_id: int
    field: str
    requested_value: str
    reason: str
    department_id: str
    status: str
    decision_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class DecisionIn(BaseModel):
    model_config = {"extra": "forbid"}

    decision: Literal["approve", "reject"]
    reason: FreeText = Field(min_length=1, max_length=500)
