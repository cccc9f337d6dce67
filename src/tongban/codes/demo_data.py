"""Generated rows of the demo subject datasets (deterministic: the same seed gives the same rows).

Dates are laid out around a fixed day (2026-06-01), not today, so a given seed always yields the
same data; some health certificates, talent recognitions and fire checks have therefore lapsed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tongban.codes.models import DomesticWorker, Farm, FarmProduct, RentedFlat, Talent

BASE = dt.date(2026, 6, 1)
# The seeds' ~800,000 codes, spread over the types (`tongban codes generate --full`).
FULL = {"farm": 20_000, "product": 180_000, "domestic_worker": 60_000, "talent": 40_000, "rented_flat": 500_000}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国文辉力"
STREETS = [("330203001", "南门街道"), ("330203003", "西门街道"), ("330203004", "月湖街道"), ("330203005", "鼓楼街道"),
           ("330203006", "白云街道"), ("330203007", "段塘街道"), ("330203008", "望春街道"), ("330203009", "石碶街道")]
CROPS = ["水稻", "草莓", "杨梅", "茭白", "西兰花", "葡萄", "蜜梨", "竹笋", "茶叶", "番茄"]
SERVICES = ["保洁", "育婴", "养老护理", "月嫂", "烹饪", "病患陪护"]
TALENT_FIELDS = ["智能制造", "新材料", "数字经济", "生物医药", "现代金融", "港航物流"]


def _name(r: random.Random) -> str:
    return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))


def _id_number(r: random.Random, birth: dt.date) -> str:
    body = f"330203{birth:%Y%m%d}{r.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _day(r: random.Random, lo: int, hi: int) -> dt.date:
    return BASE + dt.timedelta(days=r.randint(lo, hi))


def farm(r: random.Random, i: int) -> dict[str, Any]:
    code, street = r.choice(STREETS)
    crop = r.choice(CROPS)
    return {"id": i, "name": f"海曙{street[:2]}{crop}{r.choice(['专业合作社', '家庭农场', '种植基地'])}{i}",
            "region_code": code, "main_product": crop, "credit_grade": r.choices("ABCD", (50, 35, 12, 3))[0],
            "green_certified": r.random() < 0.3, "legal_person_name": _name(r),
            "phone": f"13{r.randrange(10**9):09d}", "inspection_result": "fail" if r.random() < 0.04 else "pass",
            "inspected_on": _day(r, -300, 0)}


def product(r: random.Random, i: int, farms: int) -> dict[str, Any]:
    crop = r.choice(CROPS)
    test = r.choices(["pass", "fail", "pending"], (90, 3, 7))[0]
    return {"id": i, "farm_id": r.randint(1, max(farms, 1)), "name": f"{crop}（批次{i:06d}）",
            "origin": f"宁波市海曙区{r.choice(STREETS)[1]}", "harvested_on": _day(r, -60, 0), "residue_test": test,
            "tested_on": None if test == "pending" else _day(r, -50, 0)}


def domestic_worker(r: random.Random, i: int) -> dict[str, Any]:
    surname = r.choice(SURNAMES)
    birth = dt.date(r.randint(1965, 1998), r.randint(1, 12), r.randint(1, 28))
    return {"id": i, "display_name": surname + r.choice(["阿姨", "师傅", "姐"]),
            "services": "、".join(r.sample(SERVICES, r.randint(1, 3))),
            "agency": f"海曙{r.choice(['安心', '好帮手', '甬嫂', '贴心'])}家政服务有限公司",
            "star_level": r.randint(1, 5), "name": surname + r.choice(GIVEN) + r.choice(GIVEN),
            "id_number": _id_number(r, birth), "health_cert_no": f"JK3302{r.randrange(10**10):010d}",
            # valid one year from issue, issued up to 15 months before BASE: some have lapsed
            "health_cert_valid_to": None if r.random() < 0.01 else _day(r, -90, 365),
            "background_check": r.choices(["pass", "pending", "fail"], (95, 4, 1))[0]}


def talent(r: random.Random, i: int) -> dict[str, Any]:
    surname = r.choice(SURNAMES)
    birth = dt.date(r.randint(1960, 2000), r.randint(1, 12), r.randint(1, 28))
    recognised = _day(r, -1500, 0)
    return {"id": i, "display_name": surname + r.choice(["先生", "女士", "博士"]),
            "tier": r.choices("ABCDE", (1, 4, 15, 30, 50))[0], "field": r.choice(TALENT_FIELDS),
            "name": surname + r.choice(GIVEN) + r.choice(GIVEN), "id_number": _id_number(r, birth),
            "employer": f"宁波{r.choice(['甬江', '天一', '三江', '东海'])}{r.choice(['科技', '材料', '医药', '数据'])}有限公司",
            "recognised_on": recognised, "valid_to": recognised + dt.timedelta(days=5 * 365)}


def rented_flat(r: random.Random, i: int) -> dict[str, Any]:
    code, street = r.choice(STREETS)
    rooms = r.randint(1, 4)
    cap = rooms * 2
    fire = r.choices(["pass", "overdue", "fail"], (88, 10, 2))[0]
    return {"id": i, "community": f"{street}{r.choice(['新村', '花园', '小区', '社区'])}{r.randint(1, 40)}号楼",
            "region_code": code, "rooms": rooms, "max_tenants": cap,
            "address": f"宁波市海曙区{street}{r.randint(1, 300)}号{r.randint(1, 30)}{r.randint(1, 4):02d}室",
            "landlord_name": _name(r), "landlord_phone": f"13{r.randrange(10**9):09d}",
            "tenants": r.randint(0, cap + (2 if r.random() < 0.05 else 0)), "registered": r.random() < 0.93,
            "fire_check": fire, "fire_checked_on": _day(r, -700, 0) if fire != "fail" else _day(r, -30, 0)}


KINDS: dict[str, tuple[type[Any], Callable[..., dict[str, Any]]]] = {
    "farm": (Farm, farm), "product": (FarmProduct, product), "domestic_worker": (DomesticWorker, domestic_worker),
    "talent": (Talent, talent), "rented_flat": (RentedFlat, rented_flat)}


def rows(kind: str, count: int, *, seed: int = 29, start: int = 1, farms: int = 0) -> Iterator[dict[str, Any]]:
    """Rows `start`…`count` of `kind`; row i depends only on (seed, kind, i)."""
    make = KINDS[kind][1]
    for i in range(start, count + 1):
        r = random.Random(f"{seed}:{kind}:{i}")
        yield make(r, i, farms) if kind == "product" else make(r, i)


def generate(session: Session, counts: dict[str, int], *, seed: int = 29,
             progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Add the rows each table lacks up to `counts` (rows already there are kept). Returns rows added."""
    added: dict[str, int] = {}
    farms = counts.get("farm") or session.scalar(select(func.count()).select_from(Farm)) or 0
    for kind, count in counts.items():
        model = KINDS[kind][0]
        have = session.scalar(select(func.max(model.id))) or 0
        batch: list[dict[str, Any]] = []
        n = 0
        for row in rows(kind, count, seed=seed, start=have + 1, farms=farms):
            batch.append(row)
            if len(batch) >= 5_000:
                session.execute(insert(model), batch)
                n += len(batch)
                if progress:
                    progress(kind, len(batch))
                batch = []
        if batch:
            session.execute(insert(model), batch)
            n += len(batch)
            if progress:
                progress(kind, len(batch))
        added[kind] = n
    return added


DEMO_SUBJECTS = 40  # of each kind, in the demo `tongban demo load` makes


def seed_demo(session: Session, settings: Any) -> None:
    """The demo's codes (a `demo.loaded` contribution): DEMO_SUBJECTS generated subjects of each
    kind and a code for each, issued by each type's department. Idempotent."""
    from tongban.codes import service
    from tongban.core.keys import keyring_for
    from tongban.core.timeutil import utcnow

    generate(session, {k: DEMO_SUBJECTS for k in KINDS})
    session.flush()
    keyring = keyring_for(settings)
    for ct in service.code_types(session):
        _, table = service.subject_dataset(session, ct)
        pending = service.pending_subjects(session, ct, table)
        if not pending:
            continue
        kid, key = keyring.private_key("code")
        rows = service.sign_subjects(key, type_id=ct.id, issuer=ct.issuer_department_id,
                                     epoch=int(utcnow().timestamp()), kid=kid, subjects=pending)
        service.store(session, rows, method="insert")
        service.record_batch(session, actor="system:demo", ct=ct, dataset_id=ct.dataset_id, kid=kid, subjects=pending)
