"""The one release decision of the data hub: what a caller may see of one field of shared data.

For a *basis* (why the caller may see the record at all) and a field (its grade L1–L4 and its
dataset's sharing and opening terms), `outcome` answers **clear**, **masked** or **withheld**.
Every path that hands shared data to someone — the exchange's query and export, staff reads of
persons, quality samples, the workbench's form display — asks it, through one of the two forms
built on it: `release_record` (one record, Python values) and `release_exprs` (whole columns,
Polars expressions). Masks come from `core.masking`, whose two forms share one definition.

The table (`release_table`) is printed in docs/datahub.md and tests/datahub check it is current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tongban.core import masking

CLEAR, MASKED, WITHHELD = "clear", "masked", "withheld"

# owner: the department that owns the dataset (and the platform admin, see core.access.owns_data);
# grant: a live sharing grant of the caller's department, per field (clear text per field);
# consent: the subject's own live consent for the caller's department and this dataset;
# party: the applicant's side and the deciding officer of an application, for its own form data;
# public: anyone, signed in or not (open data);
# aggregate: counts and sums only, never a record (see `suppress`).
BASES = ("owner", "grant", "consent", "party", "public", "aggregate")


def outcome(basis: str, grade: int, *, purpose: bool, covered: bool = True, clear_right: bool = False,
            sharing_type: str = "conditional", opening_type: str = "closed") -> str:
    """THE decision: clear, masked or withheld, for one field under one basis.

    `purpose`: the caller stated why they need the data in clear (the exchange always does; a
    staff display without one shows L3 masked). `covered`: the grant lists the field.
    `clear_right`: the grant lists it in `clear_fields`."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}")
    if grade not in (1, 2, 3, 4):
        raise ValueError(f"grade must be 1–4, not {grade!r}")
    if basis == "aggregate":
        return WITHHELD  # no record values; counts and sums go through `suppress`
    if sharing_type == "none" and basis != "owner":
        return WITHHELD  # 不予共享: the owner's alone, whatever grant or consent there is
    if basis == "public":
        return CLEAR if grade == 1 and opening_type == "open" else WITHHELD
    if basis == "grant":
        if not covered:
            return WITHHELD
        if grade == 4:
            # L4 to the owner, a party, with the subject's consent — or on a standing agreement
            # (the pack's grants.yaml) that lists it in clear; a sharing request cannot ask for it.
            return CLEAR if purpose and clear_right else WITHHELD
        if grade == 3:
            return CLEAR if purpose and clear_right else MASKED
        return CLEAR
    # owner, consent, party: a right to the whole record; L3 in clear for a stated purpose
    if grade == 3:
        return CLEAR if purpose else MASKED
    return CLEAR


# The rows of the release table in docs/datahub.md: (label, basis, keyword arguments of `outcome`).
TABLE_ROWS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("owner, display", "owner", {"purpose": False}),
    ("owner, purpose stated", "owner", {"purpose": True}),
    ("grant, field not granted", "grant", {"purpose": True, "covered": False}),
    ("grant, display", "grant", {"purpose": False, "clear_right": True}),
    ("grant, purpose stated", "grant", {"purpose": True}),
    ("grant, purpose stated, field in clear_fields", "grant", {"purpose": True, "clear_right": True}),
    ("consent, display", "consent", {"purpose": False}),
    ("consent, purpose stated", "consent", {"purpose": True}),
    ("party, display", "party", {"purpose": False}),
    ("party, purpose stated (unmask)", "party", {"purpose": True}),
    ("public, open dataset", "public", {"purpose": False, "opening_type": "open"}),
    ("public, other dataset", "public", {"purpose": False}),
    ("aggregate", "aggregate", {"purpose": True}),
    ("owner, unshared dataset (不予共享)", "owner", {"purpose": True, "sharing_type": "none"}),
    ("grant, unshared dataset", "grant", {"purpose": True, "clear_right": True, "sharing_type": "none"}),
    ("consent, unshared dataset", "consent", {"purpose": True, "sharing_type": "none"}),
)


def release_table() -> str:
    """The release table as Markdown, generated from `outcome` (docs/datahub.md holds it)."""
    lines = ["| basis | L1 | L2 | L3 | L4 |", "|---|---|---|---|---|"]
    for label, basis, kw in TABLE_ROWS:
        lines.append(f"| {label} | " + " | ".join(outcome(basis, g, **kw) for g in (1, 2, 3, 4)) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Field:
    """What the decision needs of a catalog field."""

    name: str
    grade: int
    mask: str | None = None
    filterable: bool = False


@dataclass(frozen=True)
class Basis:
    """Why the caller may see records of a dataset, with what it needs to decide field by field."""

    kind: str
    dataset_id: str | None
    catalog: Mapping[str, Field]
    grant_fields: frozenset[str] = frozenset()
    clear_fields: frozenset[str] = frozenset()
    sharing_type: str = "conditional"
    opening_type: str = "closed"
    grant_id: int | None = None

    @property
    def owner(self) -> bool:
        return self.kind == "owner"

    @property
    def consented(self) -> bool:
        return self.kind == "consent"

    @property
    def name(self) -> str:
        return self.kind

    @property
    def any_clear(self) -> bool:
        """May anything be shown in clear for a stated purpose?"""
        return any(self.outcome(n, purpose=True) == CLEAR for n, f in self.catalog.items() if f.grade >= 3)

    def with_consent(self) -> Basis:
        """The basis for a row whose subject consented: consent, unless the caller owns the data."""
        return self if self.kind in ("owner", "consent", "party") else replace(self, kind="consent")

    def outcome(self, name: str, *, purpose: bool) -> str:
        f = self.catalog[name]
        return outcome(self.kind, f.grade, purpose=purpose, covered=name in self.grant_fields,
                       clear_right=name in self.clear_fields, sharing_type=self.sharing_type,
                       opening_type=self.opening_type)

    def computable(self, name: str) -> bool:
        """May a bulk computation (screening, policy evaluation) read this field's values? Only
        what the basis would not withhold for a stated purpose: it hands out outcomes, not values."""
        if name not in self.catalog:
            return self.owner or name in self.grant_fields
        return self.outcome(name, purpose=True) != WITHHELD


def release_value(basis: Basis, name: str, value: Any, *, purpose: bool) -> Any:
    """One field of one record as the basis releases it."""
    f = basis.catalog.get(name)
    if f is None:
        return value
    decided = basis.outcome(name, purpose=purpose)
    if decided == CLEAR:
        return value
    return masking.apply(f.mask, value) if decided == MASKED else None


def release_record(basis: Basis, values: Mapping[str, Any], *, purpose: bool) -> tuple[dict[str, Any], bool]:
    """A record as the basis releases it (names outside the catalog pass as they are), and
    whether anything was masked or withheld."""
    out: dict[str, Any] = {}
    hidden = False
    for name, value in values.items():
        out[name] = release_value(basis, name, value, purpose=purpose)
        hidden = hidden or (value is not None and out[name] != value)
    return out, hidden


def _column(basis: Basis, name: str, decided: str, *, as_text: bool) -> Any:
    import polars as pl

    if decided == MASKED:
        return masking.mask_expr(basis.catalog[name].mask, name)
    if decided == WITHHELD:
        return pl.lit(None).alias(name)
    return pl.col(name).cast(pl.String).alias(name) if as_text else pl.col(name)


def release_exprs(basis: Basis, names: list[str], *, purpose: bool, consented: Any = None) -> list[Any]:
    """The same decision over whole columns, as Polars expressions named after the fields.

    `consented` (a boolean expression) marks the rows whose subject consented: they are
    released on `basis.with_consent()`, the others on `basis`."""
    import polars as pl

    alt = basis.with_consent() if consented is not None else basis
    exprs = []
    for name in names:
        if name not in basis.catalog:
            exprs.append(pl.col(name))
            continue
        base, other = basis.outcome(name, purpose=purpose), alt.outcome(name, purpose=purpose)
        if base == other:
            exprs.append(_column(basis, name, base, as_text=False))
            continue
        text = MASKED in (base, other)  # a masked value is text: its clear twin must be too
        exprs.append(pl.when(consented).then(_column(alt, name, other, as_text=text))
                     .otherwise(_column(basis, name, base, as_text=text)).alias(name))
    return exprs


# --- aggregate: counts and sums with small-count suppression --------------------------------

DEFAULT_MIN_COUNT = 10


def _parents(codes: list[str]) -> dict[str, str | None]:
    """Each region's nearest ancestor among `codes` (GB/T 2260 prefixes)."""
    from tongban.core.access import in_subtree, region_prefix

    out: dict[str, str | None] = {}
    for c in codes:
        above = [a for a in codes if a != c and in_subtree(c, a)]
        out[c] = max(above, key=lambda a: len(region_prefix(a)), default=None)
    return out


def min_count(session: Any, dataset_id: str) -> int:
    """The suppression threshold of aggregates over a dataset: the pack's `aggregates.min_count`."""
    from tongban.datahub.models import Dataset

    ds = session.get(Dataset, dataset_id)
    return ds.min_count if ds is not None else DEFAULT_MIN_COUNT


def suppress(counts: Mapping[str, int], *, threshold: int = DEFAULT_MIN_COUNT) -> dict[str, int | None]:
    """Counts per region at several levels (a region's count is the sum of its children's),
    with small counts suppressed (None): every count 0 < n < threshold (primary), then, so no
    suppressed figure can be recovered by subtraction, every equation parent = Σ children holds
    no unknown or at least two: where it holds one, the smallest published child is suppressed
    too, or the parent when no child is left (complementary) — repeated until nothing changes.

    Sums (of income, say) are published or suppressed with the count of the same cell."""
    if threshold < 1:
        raise ValueError("the threshold must be at least 1")
    codes = list(counts)
    parent = _parents(codes)
    children: dict[str, list[str]] = {c: [] for c in codes}
    for c, p in parent.items():
        if p is not None:
            children[p].append(c)
    hidden = {c for c, n in counts.items() if 0 < n < threshold}
    changed = True
    while changed:
        changed = False
        for p, kids in children.items():
            # Each parent = Σ children is one equation: one unknown in it could be solved for.
            if not kids or sum(1 for c in (p, *kids) if c in hidden) != 1:
                continue
            others = sorted((k for k in kids if k not in hidden), key=lambda k: (counts[k], k))
            hidden.add(others[0] if others else p)
            changed = True
    return {c: (None if c in hidden else n) for c, n in counts.items()}
