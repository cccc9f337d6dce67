"""The `policies/*.yaml` pack section: parameters and policies as code (see docs/policy.md).

The loader validates each file's shape; the check here builds the typed policies of the
whole pack (expressions, types against the view schemas, policy references and their
cycles, `apply_via` against the pack's items and one-things) and reports each problem in
the file it belongs to. Policies are read from the pack when evaluated; loading keeps only
each policy's content digest (`policy.digests`), against which a screening run checks the files
it reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.policy.parse import POLICY_FILES, PolicyFile, Source, build, policies_of_pack

_last: list[tuple[Pack, list[Problem]]] = []  # the pack being checked and its problems


def check_policies(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    if not _last or _last[0][0] is not pack:
        sources = [Source(f.path, f.document, f.model, (pack.root / f.path).read_text(encoding="utf-8"))
                   for f in pack.files_of("policies")]
        _last[:] = [(pack, build(sources, pack=pack)[1])]
    problems = _last[0][1]
    yield from (p for p in problems if p.file == pf.path)


def apply_policies(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    """Keep each policy's digest for this pack version (the policies themselves stay in the files)."""
    from tongban.policy import digests

    return digests.record(session, pack_id=pack.id, version=pack.version, policies=policies_of_pack(pack))


def policy_warnings(pack: Pack) -> list[str]:
    """The policy analysis's warnings (a parameter without a value for some date or region, …)."""
    return list(policies_of_pack(pack).warnings)


register_section("policies", PolicyFile, files=POLICY_FILES, check=check_policies, apply=apply_policies, order=90,
                 description="Policies as code: parameters, criteria and amounts (政策即代码)",
                 warnings=policy_warnings)
