"""The synthetic city: a realistic, reproducible population for demos, tests and benchmarks.

Vectorised with NumPy, framed with Polars, made in fixed-size chunks that are each a
self-contained piece of the city (a household, its members, their incomes and the
entities they represent all sit in one chunk), so 10 million persons stream to Parquet
in bounded memory and a partly loaded city is still consistent. The same seed, size,
as-of date and communities always give the same city. Figures and their sources are in
`docs/synthetic-city.md`; the column names are those of `registry.models`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from tongban.core import geo
from tongban.registry import divisions
from tongban.registry.geography import Shapes
from tongban.registry.identifiers import org_code_check_chars, ric_check_chars, uscc_check_chars

Frames = dict[str, pl.DataFrame]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Tables in load order (parents before children).
TABLES = ("address", "household", "person", "household_member", "guardianship", "legal_entity",
          "income_record", "asset_record", "benefit_enrolment", "medical_settlement")
CHUNK_SIZE = 100_000
MAX_PERSONS = 20_000_000

# --- reference figures (see docs/synthetic-city.md) -------------------------------------

# The 100 commonest surnames with approximate national shares in percent, after the 2006-07
# national survey and the Ministry of Public Security's name reports (王 李 张 刘 陈 lead).
SURNAMES = (
    "王7.12 李7.00 张6.74 刘5.10 陈4.61 杨3.22 黄2.45 赵2.19 吴2.00 周1.95 徐1.68 孙1.54 马1.37 "
    "朱1.26 胡1.31 郭1.15 何1.17 林1.18 高1.21 罗0.86 郑0.76 梁0.84 谢0.72 宋0.77 唐0.65 许0.54 "
    "韩0.68 冯0.64 邓0.54 曹0.57 彭0.50 曾0.50 肖0.59 田0.32 董0.61 袁0.54 潘0.35 于0.62 蒋0.46 "
    "蔡0.44 余0.37 杜0.34 叶0.38 程0.57 苏0.46 魏0.40 吕0.47 丁0.41 任0.31 沈0.51 姚0.28 卢0.46 "
    "姜0.30 崔0.24 钟0.33 谭0.27 陆0.26 汪0.32 范0.29 金0.26 石0.28 廖0.27 贾0.42 夏0.33 韦0.20 "
    "付0.51 方0.29 白0.24 邹0.26 孟0.21 熊0.26 秦0.22 邱0.23 江0.22 尹0.19 薛0.38 闫0.37 段0.20 "
    "雷0.19 侯0.21 龙0.20 史0.22 陶0.17 黎0.18 贺0.17 顾0.21 毛0.23 郝0.25 龚0.16 邵0.21 万0.20 "
    "钱0.19 严0.16 覃0.15 武0.17 戴0.34 莫0.15 孔0.25 向0.14 汤0.19"
).split()
SURNAME_CHARS = [s[0] for s in SURNAMES]
SURNAME_SHARES = np.array([float(s[1:]) for s in SURNAMES])
GIVEN_MALE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成志海东晨博文瑞豪轩睿泽皓")
GIVEN_FEMALE = list("芳娜敏静丽艳娟霞秀玲燕婷雪慧莹琳洁梅红颖倩琴云蓉萍佳欣怡雨萱涵诗梦瑶思彤晴悦可馨月妍")
GIVEN_SHARED = list("一子晓天永春秋金玉安嘉佳新德世小立建文明雅")

# Population by 5-year age band (0-4 … 100), percent, shaped after the 2020 census (urban).
AGE_BANDS = np.array([5.0, 5.9, 5.6, 5.0, 5.6, 7.4, 9.4, 7.4, 6.9, 8.2, 8.4, 6.8, 5.1, 4.6, 3.2, 2.1, 1.4,
                      0.8, 0.3, 0.1, 0.02])
AGE_WEIGHT = np.repeat(AGE_BANDS / 5, 5)[:101]

# Household types: share of households and the head's age range.
HOUSEHOLD_TYPES = {
    "single": 0.14, "elderly_alone": 0.10, "couple": 0.12, "elderly_couple": 0.14,
    "couple_children": 0.30, "single_parent": 0.05, "three_generation": 0.11,
    "skip_generation": 0.02, "siblings": 0.02,
}
# Where people were born, by whether they are minors: own district, elsewhere in the
# city, elsewhere in the province, elsewhere in China.
BIRTHPLACE_MINOR = np.array([0.80, 0.12, 0.05, 0.03])
BIRTHPLACE_ADULT = np.array([0.45, 0.15, 0.15, 0.25])
# Provinces people move to Zhejiang from, weighted (others share the rest evenly).
MIGRANT_PROVINCES = {"34": 12, "36": 9, "41": 8, "51": 7, "52": 7, "43": 6, "42": 5, "45": 4, "35": 4,
                     "32": 4, "37": 3, "50": 3, "53": 3}
NOT_A_BIRTHPLACE = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

DISABILITY_TYPES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")
DISABILITY_SHARES = np.array([14.9, 24.2, 1.5, 29.1, 6.7, 7.4, 16.3])  # 2006 national sample survey
DISABILITY_GRADES = np.array([0.12, 0.20, 0.28, 0.40])  # grades 1 (most severe) … 4

PHONE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156,
                           157, 158, 159, 166, 173, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 198, 199])
ROAD_STEMS = list("中山 解放 开明 镇明 柳汀 药行 灵桥 苍松 望春 段塘 新典 丽园 翠柏 永丰 高桥 集士港 古林 石碶 南门 "
                  "西门 白云 华泰 文昌 天一 月湖 孝闻 县学 公园 新芝 南塘 槐树 车轿 大沙泥 环城 气象 启运 "
                  "青林湾 长春 布政 孝闻 广仁 柳西 西成".split())
ROAD_SUFFIXES = ["路", "街", "巷", "东路", "西路", "南路", "北路"]
BRAND_CHARS = list("华锦盛鑫瑞祥泰丰达宏昌兴隆通汇恒远宁甬海新明润永和信诚佳美嘉乐德聚富众")
INDUSTRIES = ["贸易", "科技", "电子", "服饰", "建设", "物流", "餐饮", "文化传媒", "机械", "塑料制品", "进出口",
              "信息技术", "房地产经纪", "家政服务", "医疗器械"]
SHOPS = ["便利店", "小吃店", "理发店", "五金店", "服装店", "水果店", "维修部", "面馆", "烟酒店", "打印店"]
ORG_KINDS = ["社会工作服务中心", "养老服务中心", "志愿者协会", "文化促进会", "社区服务社"]
INSTITUTIONS = ["中心小学", "实验小学", "初级中学", "社区卫生服务中心", "幼儿园", "图书馆分馆"]
AGENCIES = ["街道办事处", "市场监督管理所", "司法所", "社区工作站", "退役军人服务站"]
ENTITY_KINDS = ("company", "individual", "social_org", "institution", "government")
ENTITY_SHARES = np.array([0.55, 0.35, 0.04, 0.05, 0.01])
ENTITY_PREFIX = {"company": "91", "individual": "92", "social_org": "52", "institution": "12",
                 "government": "11"}
PERSONS_PER_ENTITY = 12

# Job losses: the share of employees (not the self-employed) who lost their job in one of the last
# six months, the month drawn evenly; no wage from that month on, and unemployed now.
JOB_LOSS_SHARE = 0.03
# Personal assets of adults (owner_kind person): deposits and securities, yuan.
DEPOSIT_SHARE, DEPOSIT_MEDIAN, DEPOSIT_SIGMA = 0.6, 20_000, 1.2
SECURITIES_SHARE, SECURITIES_MEDIAN, SECURITIES_SIGMA = 0.08, 50_000, 1.3
PERSON_ASSET_ID_BASE = 4 * (MAX_PERSONS + 1)  # above every household asset's id (household id × 4 + kind)
# Medical-insurance settlements (医保结算) over the last 12 months: a Poisson number per living person
# (more from 60), a bill log-normal (outpatient median 800 yuan; 4% inpatient, median 30,000), the
# funds paying 50–85% of it and the person the rest (个人负担).
SETTLEMENTS_PER_YEAR = (0.5, 2.0)  # under 60, 60 and over
OUTPATIENT_MEDIAN, INPATIENT_MEDIAN, INPATIENT_SHARE = 800, 30_000, 0.04
MAX_SETTLEMENTS = 15  # per person and year (ids: person id × 16 + n)


@dataclass(frozen=True)
class Enrolments:
    """The benefit codes the city's residents already hold: those of the pack's 低保 policy
    (`dibao`) and its care allowance for severe disability (`disability_care`), so that screening
    counts them as enrolled instead of offering the benefit again. The defaults are the demo
    pack's (a test keeps them so); `tongban.demo_generate.enrolments_of_pack` reads another pack's."""

    dibao: str = "assistance.dibao"
    disability_care: str = "disability.care"


def pack_communities(pack_dir: Path) -> tuple[str, ...]:
    """The community codes (12 digits) of a pack's regions, read through the pack loader (so a
    pack in error is refused with its problems, as `tongban pack check` would)."""
    from tongban.core.packs.loader import read_pack

    pack = read_pack(pack_dir)
    return tuple(sorted(r.code for f in pack.files_of("regions") for r in f.model.regions
                        if r.level == "community"))


@dataclass(frozen=True)
class CityConfig:
    """Everything that decides the city. The same config gives the same city."""

    persons: int
    seed: int
    communities: tuple[str, ...]
    as_of: dt.date
    chunk_size: int = CHUNK_SIZE
    dibao_line_fen: int = 120_000  # a generator parameter, not policy: the pack holds the real line
    dibao_take_up: float = 0.3  # share of low-income households already enrolled
    enrolments: Enrolments = Enrolments()
    shapes: Shapes | None = None  # where communities are: addresses get a point in their cell

    def __post_init__(self) -> None:
        if not 0 < self.persons <= MAX_PERSONS:
            raise ValueError(f"persons must be between 1 and {MAX_PERSONS:,}")
        if not self.communities:
            raise ValueError("no communities to live in")
        for code in self.communities:
            if len(code) != 12 or not code.isdigit():
                raise ValueError("community codes have 12 digits")
            divisions.check_code(code[:6], field="communities")

    @property
    def chunks(self) -> int:
        return math.ceil(self.persons / self.chunk_size)

    def chunk_persons(self, index: int) -> int:
        return min(self.chunk_size, self.persons - index * self.chunk_size)


# --- birthplaces: codes in force in each birth year ------------------------------------


@dataclass(frozen=True)
class _Pool:
    """Codes per year as one flat array; `key` is year offset + cumulative weight in [0, 1)."""

    codes: npt.NDArray[np.int64]
    key: npt.NDArray[np.float64]
    first_year: int

    def sample(self, years: IntArray, u: npt.NDArray[np.float64]) -> IntArray:
        pos = np.searchsorted(self.key, (years - self.first_year) + u, side="right") - 1
        return self.codes[pos]


def _birthplace_ok(d: divisions.DivisionCode) -> bool:
    return d.level == "county" and d.name not in NOT_A_BIRTHPLACE and "11" <= d.code[:2] <= "65"


def _make_pool(candidates: list[divisions.DivisionCode], years: range, fallback: _Pool | None,
               weight: Callable[[str], float] = lambda c: 1.0) -> _Pool:
    codes: list[int] = []
    keys: list[float] = []
    for i, year in enumerate(years):
        in_force = [d for d in candidates if d.in_force(year)]
        if not in_force:
            assert fallback is not None, "no code in force"
            sel = (fallback.key >= i) & (fallback.key < i + 1)
            codes.extend(fallback.codes[sel].tolist())
            keys.extend(fallback.key[sel].tolist())
            continue
        w = np.array([weight(d.code) for d in in_force], dtype=np.float64)
        cum = np.cumsum(w) / w.sum()
        codes.extend(int(d.code) for d in in_force)
        keys.extend((i + np.concatenate([[0.0], cum[:-1]])).tolist())
    return _Pool(np.array(codes, dtype=np.int64), np.array(keys), years.start)


@lru_cache(maxsize=8)
def _pools(district: str, first_year: int, last_year: int) -> tuple[_Pool, _Pool, _Pool, _Pool]:
    years = range(first_year, last_year + 1)
    allc = [d for d in divisions.national().values() if _birthplace_ok(d)]
    national = _make_pool(allc, years, None, lambda c: MIGRANT_PROVINCES.get(c[:2], 1.0))
    province = _make_pool([d for d in allc if d.code[:2] == district[:2]], years, national)
    city = _make_pool([d for d in allc if d.code[:4] == district[:4]], years, province)
    own = _make_pool([d for d in allc if d.code == district], years, city)
    return own, city, province, national


# --- helpers ---------------------------------------------------------------------------


def _sample_ages(rng: np.random.Generator, n: int, lo: int, hi: int, tilt: float = 0.0) -> IntArray:
    ages = np.arange(lo, hi + 1)
    w = AGE_WEIGHT[lo:hi + 1] * np.exp(tilt * (ages - lo))
    return rng.choice(ages, size=n, p=w / w.sum()).astype(np.int64)


def _strings(values: list[str], idx: npt.NDArray[np.integer]) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(idx.astype(np.int64)))


def _pick(rng: np.random.Generator, chars: list[str], n: int) -> npt.NDArray[np.str_]:
    return np.array(chars)[rng.integers(0, len(chars), n)]


def _digits(values: IntArray, width: int) -> IntArray:
    """(n, width) decimal digits of non-negative integers."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def _ascii(matrix: npt.NDArray[np.uint8], width: int) -> pl.Series:
    return pl.Series(np.ascontiguousarray(matrix).view(f"S{width}").ravel().astype(f"U{width}"))


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _ymd(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def _age_on(birth_days: IntArray, as_of: dt.date) -> IntArray:
    y, m, d = _ymd(birth_days)
    before = (m > as_of.month) | ((m == as_of.month) & (d > as_of.day))
    return as_of.year - y - before.astype(np.int64)


def _district_factor(seed: int, district: str) -> float:
    """A district's income level relative to the city (deterministic per seed and code)."""
    return float(np.random.default_rng([seed, int(district)]).uniform(0.85, 1.2))


def _community_weights(config: CityConfig) -> npt.NDArray[np.float64]:
    w = np.random.default_rng([config.seed, 7]).lognormal(0.0, 0.4, len(config.communities))
    return w / w.sum()


def months(as_of: dt.date) -> list[str]:
    """The 12 complete months before the as-of date, oldest first."""
    y, m = as_of.year, as_of.month
    out = []
    for _ in range(12):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out[::-1]


# --- one chunk -------------------------------------------------------------------------

REL = ("head", "spouse", "parent", "child", "grandchild", "sibling")
MARITAL = ("single", "married", "divorced", "widowed")


def _households(rng: np.random.Generator, n_persons: int) -> dict[str, IntArray]:
    """Household types and sizes adding up to exactly n_persons."""
    types = list(HOUSEHOLD_TYPES)
    est = int(n_persons / 2.4) + 16
    t = rng.choice(len(types), size=est, p=np.array(list(HOUSEHOLD_TYPES.values())))
    ti = {name: i for i, name in enumerate(types)}
    kids = np.zeros(est, np.int64)
    cc = t == ti["couple_children"]
    kids[cc] = rng.choice([1, 2, 3], size=cc.sum(), p=[0.55, 0.38, 0.07])
    sp = t == ti["single_parent"]
    kids[sp] = rng.choice([1, 2], size=sp.sum(), p=[0.7, 0.3])
    tg = t == ti["three_generation"]
    kids[tg] = rng.choice([1, 2], size=tg.sum(), p=[0.6, 0.4])
    sg = t == ti["skip_generation"]
    kids[sg] = rng.choice([1, 2], size=sg.sum(), p=[0.8, 0.2])
    grand = np.where(tg, rng.choice([1, 2], size=est, p=[0.4, 0.6]), 0)
    spouse = np.isin(t, [ti["couple"], ti["elderly_couple"], ti["couple_children"], ti["three_generation"]])
    spouse |= sg & (rng.random(est) < 0.6)
    sibling = (t == ti["siblings"]).astype(np.int64)
    size = 1 + spouse + kids + grand + sibling
    keep = np.cumsum(size) <= n_persons
    # Top up with one-person households so the chunk has exactly n_persons.
    rest = n_persons - int(size[keep].sum())
    pad = np.zeros(rest, np.int64)
    return {
        "type": np.concatenate([t[keep], pad + ti["single"]]),
        "kids": np.concatenate([kids[keep], pad]),
        "grand": np.concatenate([grand[keep], pad]),
        "spouse": np.concatenate([spouse[keep], pad.astype(bool)]),
        "sibling": np.concatenate([sibling[keep], pad]),
    }


def _members(rng: np.random.Generator, hh: dict[str, IntArray]) -> dict[str, IntArray]:
    """Each household's members: age, sex (1 = male), relationship, marital status, slot."""
    ti = {name: i for i, name in enumerate(HOUSEHOLD_TYPES)}
    t = hh["type"]
    n = len(t)
    head_age = np.zeros(n, np.int64)
    head_male = np.zeros(n, bool)
    ranges = {"single": (18, 59, -0.05, 0.55), "elderly_alone": (60, 100, 0.03, 0.35),
              "couple": (22, 59, -0.02, 0.85), "elderly_couple": (60, 95, 0.0, 0.85),
              "couple_children": (25, 59, 0.0, 0.85), "single_parent": (25, 55, 0.0, 0.25),
              "three_generation": (28, 50, 0.0, 0.85), "skip_generation": (55, 80, 0.0, 0.55),
              "siblings": (20, 60, 0.0, 0.5)}
    for name, (lo, hi, tilt, male_share) in ranges.items():
        sel = t == ti[name]
        head_age[sel] = _sample_ages(rng, int(sel.sum()), lo, hi, tilt)
        head_male[sel] = rng.random(int(sel.sum())) < male_share
    gap = np.rint(rng.normal(2.0, 2.5, n)).astype(np.int64)
    spouse_age = np.clip(np.where(head_male, head_age - gap, head_age + gap), 20, 100)
    spouse_age = np.where(t == ti["elderly_couple"], np.maximum(spouse_age, 58), spouse_age)
    mother_age = np.where(hh["spouse"], np.where(head_male, spouse_age, head_age),
                          np.where(head_male, head_age - 2, head_age))

    hh_idx: list[IntArray] = []
    cols: dict[str, list[IntArray]] = {"age": [], "male": [], "rel": [], "marital": [], "slot": []}

    def add(sel: BoolArray, age: IntArray, male: BoolArray, rel: str, marital: IntArray, slot: int) -> None:
        idx = np.flatnonzero(sel)
        hh_idx.append(idx)
        cols["age"].append(age[idx])
        cols["male"].append(male[idx].astype(np.int64))
        cols["rel"].append(np.full(len(idx), REL.index(rel), np.int64))
        cols["marital"].append(marital[idx])
        cols["slot"].append(np.full(len(idx), slot, np.int64))

    u = rng.random(n)
    single, married, divorced, widowed = (np.full(n, i, np.int64) for i in range(4))
    head_marital = np.where(hh["spouse"], married, single)
    head_marital = np.where((t == ti["single"]) & (head_age >= 30) & (u < 0.25), divorced, head_marital)
    head_marital = np.where(t == ti["elderly_alone"], np.select([u < 0.75, u < 0.87], [widowed, divorced],
                                                                single), head_marital)
    head_marital = np.where(t == ti["single_parent"], np.where(u < 0.7, divorced, widowed), head_marital)
    head_marital = np.where((t == ti["skip_generation"]) & ~hh["spouse"], widowed, head_marital)
    head_marital = np.where((t == ti["siblings"]) & (u < 0.3), divorced, head_marital)
    everyone = np.ones(n, bool)
    add(everyone, head_age, head_male, "head", head_marital, 0)
    add(hh["spouse"].astype(bool), spouse_age, ~head_male, "spouse", married, 1)
    for g in range(2):
        sel = hh["grand"] > g
        age = np.clip(head_age + rng.integers(24, 35, n), 0, 100)
        male = np.where(hh["grand"] == 2, g == 0, rng.random(n) < 0.35)
        add(sel, age, male, "parent", np.where(hh["grand"] == 2, married, widowed), 2 + g)
    for k in range(3):
        sel = hh["kids"] > k
        birth_age = rng.integers(22, 39, n)
        age = np.maximum(mother_age - np.minimum(birth_age, np.maximum(mother_age - 1, 0)), 0)
        grandchild = t == ti["skip_generation"]
        age = np.where(grandchild, np.minimum(rng.integers(0, 15, n), head_age - 40), age)
        male = rng.random(n) < 0.52
        rel = np.where(grandchild, REL.index("grandchild"), REL.index("child"))
        for r in ("child", "grandchild"):
            add(sel & (rel == REL.index(r)), age, male, r, single, 4 + k)
    add(hh["sibling"].astype(bool), np.clip(head_age + rng.integers(-8, 9, n), 18, 90),
        rng.random(n) < 0.5, "sibling", single, 7)

    h = np.concatenate(hh_idx)
    order = np.lexsort((np.concatenate(cols["slot"]), h))
    out = {k: np.concatenate(v)[order] for k, v in cols.items()}
    out["hh"] = h[order]
    return out


def _id_numbers(rng: np.random.Generator, config: CityConfig, chunk: int, area: IntArray,
                birth_days: IntArray, male: BoolArray, birth_years: IntArray,
                national: _Pool) -> tuple[IntArray, pl.Series]:
    """Resident ID numbers unique across the whole city: within each (area, birth date, sex),
    chunk c takes the sequence slots c, c + K, c + 2K … (K chunks); a person who would
    overflow their slots is given another birthplace in force in their birth year."""
    k = config.chunks
    area = area.copy()
    slots = max((499 - chunk + k - 1) // k, 0)
    for _ in range(50):
        order = np.lexsort((male, birth_days, area))
        a, b, s = area[order], birth_days[order], male[order]
        start = np.ones(len(order), bool)
        start[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (s[1:] != s[:-1])
        group_start = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order)) - group_start
        over = rank >= slots
        if not over.any():
            break
        redo = np.flatnonzero(over)
        area[redo] = national.sample(birth_years[redo], rng.random(len(redo)))
    else:  # pragma: no cover - needs an absurd city
        raise RuntimeError("could not give everyone a unique ID number")
    j = rank * k + chunk
    seq = np.where(male, 2 * j + 1, 2 * j + 2)
    y, m, d = _ymd(birth_days)
    date = y * 10000 + m * 100 + d
    digits = np.hstack([_digits(area, 6), _digits(date, 8), _digits(seq, 3)])
    chars = np.hstack([(digits + 48).astype(np.uint8), ric_check_chars(digits)[:, None]])
    return area, _ascii(chars, 18)


_Chunk = dict[str, Any]  # a chunk's people and what the tables made so far, by name


def _take(p: _Chunk, *names: str) -> tuple[Any, ...]:
    return tuple(p[n] for n in names)


def _people(rng: np.random.Generator, config: CityConfig, chunk: int) -> _Chunk:
    """The chunk's households and their members: where they live, ages, deaths, birthplaces and
    ID numbers, names, phones, schooling, work, disability, and who represents an entity."""
    n = config.chunk_persons(chunk)
    base = chunk * config.chunk_size
    as_of_days = _days(config.as_of)
    hh = _households(rng, n)
    mem = _members(rng, hh)
    n_hh = len(hh["type"])
    assert len(mem["hh"]) == n

    # Households: community, address, ids.
    communities = np.array(config.communities)
    comm_idx = rng.choice(len(communities), size=n_hh, p=_community_weights(config))
    hh_comm = communities[comm_idx]
    hh_id = base + np.arange(n_hh, dtype=np.int64) + 1
    hh_addr = 2 * base + np.arange(n_hh, dtype=np.int64) + 1
    person_id = base + np.arange(n, dtype=np.int64) + 1
    p_hh = mem["hh"]
    p_comm = hh_comm[p_hh]
    p_district = np.array([c[:6] for c in config.communities])[comm_idx][p_hh]

    # Ages and birth dates; the exact age follows from the date.
    age = mem["age"]
    birth_days = as_of_days - np.floor(age * 365.2425).astype(np.int64) - rng.integers(1, 366, n)
    age = _age_on(birth_days, config.as_of)
    birth_years, _, _ = _ymd(birth_days)
    male = mem["male"].astype(bool)

    # Deaths: one spouse in some elderly couples and some widowed grandparents' partners.
    elderly_couple = list(HOUSEHOLD_TYPES).index("elderly_couple")
    dies = (hh["type"][p_hh] == elderly_couple) & (mem["rel"] == REL.index("spouse")) \
        & (rng.random(n) < 0.10)
    dies |= (mem["rel"] == REL.index("parent")) & (age >= 75) & (rng.random(n) < 0.05)
    death_days = np.where(dies, as_of_days - rng.integers(20, 1100, n), 0)
    widowed_hh = np.zeros(n_hh, bool)
    widowed_hh[p_hh[dies & (mem["rel"] == REL.index("spouse"))]] = True
    marital = np.where(widowed_hh[p_hh] & (mem["rel"] == REL.index("head")), MARITAL.index("widowed"),
                       mem["marital"])

    # Birthplaces in force in the birth year, then ID numbers.
    first_year = config.as_of.year - 102
    origin = np.where(age < 18, rng.choice(4, size=n, p=BIRTHPLACE_MINOR),
                      rng.choice(4, size=n, p=BIRTHPLACE_ADULT))
    area = np.zeros(n, np.int64)
    u = rng.random(n)
    national = None
    for district in np.unique(p_district):
        pools = _pools(str(district), first_year, config.as_of.year)
        national = pools[3]
        for o in range(4):
            sel = (p_district == district) & (origin == o)
            area[sel] = pools[o].sample(birth_years[sel], u[sel])
    assert national is not None
    area, id_number = _id_numbers(rng, config, chunk, area, birth_days, male, birth_years, national)
    local = origin <= 1
    migrant = ~local & (rng.random(n) < 0.5)
    hukou = np.where(migrant, area.astype(str), p_comm)

    # Names: the family surname passes down the male line; spouses keep their own.
    fam = rng.choice(len(SURNAME_CHARS), size=n_hh, p=SURNAME_SHARES / SURNAME_SHARES.sum())
    own = rng.choice(len(SURNAME_CHARS), size=n, p=SURNAME_SHARES / SURNAME_SHARES.sum())
    rel = mem["rel"]
    keeps_family = ((rel == REL.index("head")) & male) | np.isin(rel, [REL.index("child"),
                                                                         REL.index("grandchild")]) \
        | ((rel == REL.index("parent")) & male) | (rel == REL.index("sibling"))
    surname = np.where(keeps_family, fam[p_hh], own)
    first = np.where(male, _pick(rng, GIVEN_MALE, n), _pick(rng, GIVEN_FEMALE, n))
    second = np.where(male, _pick(rng, GIVEN_SHARED + GIVEN_MALE, n), _pick(rng, GIVEN_SHARED + GIVEN_FEMALE, n))
    second = np.where(rng.random(n) < 0.72, second, "")
    name = pl.select(pl.concat_str([_strings(SURNAME_CHARS, surname), pl.Series(first), pl.Series(second)])
                     ).to_series()

    # Phones for those 12 and over.
    phone_num = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)] * 10**8 + rng.integers(0, 10**8, n)
    phone = pl.Series(phone_num).cast(pl.String)
    has_phone = age >= 12

    # Schooling, work, disability.
    student = np.full(n, "", dtype="U10")
    student[(age >= 3) & (age <= 5)] = "preschool"
    student[(age >= 6) & (age <= 11)] = "primary"
    student[(age >= 12) & (age <= 14)] = "junior"
    upper = (age >= 15) & (age <= 17)
    student[upper] = np.where(rng.random(n) < 0.8, "senior", "vocational")[upper]
    student[(age >= 18) & (age <= 21) & (rng.random(n) < 0.6)] = "university"
    dis_p = 0.015 + 0.0011 * age
    disabled = rng.random(n) < dis_p
    dis_type = rng.choice(len(DISABILITY_TYPES), size=n, p=DISABILITY_SHARES / DISABILITY_SHARES.sum())
    dis_grade = rng.choice(4, size=n, p=DISABILITY_GRADES) + 1
    severe = disabled & (dis_grade <= 2)
    retire_age = np.where(male, 60, 55)
    employment = np.full(n, "none", dtype="U10")
    working_age = (age >= 16) & (age < retire_age) & (student == "")
    draw = rng.random(n)
    employment[working_age] = np.select([draw < 0.86, draw < 0.91], ["employed", "unemployed"], "none")[working_age]
    employment[working_age & severe & (rng.random(n) < 0.7)] = "none"
    employment[age >= retire_age] = "retired"
    alive = ~dies

    # Legal entities and their representatives (adults of this chunk).
    n_ent = max(n // PERSONS_PER_ENTITY, 1 if n >= 50 else 0)
    ent_kind = rng.choice(len(ENTITY_KINDS), size=n_ent, p=ENTITY_SHARES)
    candidates = np.flatnonzero(alive & (age >= 25) & (age <= 70))
    reps = rng.choice(candidates, size=min(n_ent, len(candidates)), replace=False) if n_ent else candidates[:0]
    if len(reps) < n_ent:
        reps = np.concatenate([reps, np.full(n_ent - len(reps), -1)])
    business = np.zeros(n, bool)
    ind = ENTITY_KINDS.index("individual")
    business[reps[(ent_kind == ind) & (reps >= 0)]] = True
    employment[business] = "employed"
    # Job losses in the last six months: month index 6 … 11 of `months()` (oldest first), -1: none.
    loses = (employment == "employed") & ~business & (rng.random(n) < JOB_LOSS_SHARE)
    lost_month = np.where(loses, rng.integers(6, 12, n), -1)
    employment[loses] = "unemployed"
    return dict(age=age, lost_month=lost_month, alive=alive, as_of_days=as_of_days, base=base, birth_days=birth_days,
                business=business, comm_idx=comm_idx, communities=communities, death_days=death_days,
                dies=dies, dis_grade=dis_grade, dis_type=dis_type, disabled=disabled, employment=employment,
                ent_kind=ent_kind,
                has_phone=has_phone, hh_addr=hh_addr, hh_comm=hh_comm, hh_id=hh_id, hukou=hukou,
                id_number=id_number, male=male, marital=marital, n=n, n_ent=n_ent, n_hh=n_hh, name=name,
                p_comm=p_comm, p_district=p_district, p_hh=p_hh, person_id=person_id, phone=phone, rel=rel,
                reps=reps, severe=severe, student=student)


def _income_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Monthly incomes (fen) of the last 12 months, per earner and source."""
    (age, business, death_days, dies, employment, lost_month, n, p_district, person_id) = _take(
        p, "age", "business", "death_days", "dies", "employment", "lost_month", "n", "p_district", "person_id")
    # Monthly incomes (fen) for the last 12 months.
    month_names = months(config.as_of)
    district_factor = {d: _district_factor(config.seed, d) for d in np.unique(p_district)}
    dfac = np.array([district_factor[d] for d in p_district])
    age_fac = np.select([age < 25, age < 35, age < 50], [0.75, 1.0, 1.1], 0.95)
    wage = rng.lognormal(np.log(6500 * dfac * age_fac), 0.55)
    biz = rng.lognormal(np.log(7000 * dfac), 0.9)
    pension = np.where(rng.random(n) < 0.88, rng.lognormal(np.log(3800 * dfac), 0.3),
                       rng.lognormal(np.log(400), 0.3))
    src = np.full(n, -1, np.int64)  # 0 wage, 1 business, 2 pension
    src[employment == "employed"] = 0
    src[business] = 1
    src[employment == "retired"] = 2
    src[lost_month >= 0] = 0  # a wage until the month the job was lost
    base_amount = np.select([src == 0, src == 1, src == 2], [wage, biz, pension], 0.0)
    earners = np.flatnonzero(src >= 0)
    e_rep = np.repeat(earners, 12)
    m_idx = np.tile(np.arange(12), len(earners))
    noise_sigma = np.select([src == 0, src == 1], [0.06, 0.25], 0.0)[e_rep]
    amount = np.rint(base_amount[e_rep] * rng.lognormal(0.0, 1.0, len(e_rep)) ** noise_sigma * 100)
    month_start = np.array([_days(dt.date(int(s[:4]), int(s[5:]), 1)) for s in month_names])
    paid = ~dies[e_rep] | (month_start[m_idx] < death_days[e_rep])
    paid &= (lost_month[e_rep] < 0) | (m_idx < lost_month[e_rep])
    e_rep, m_idx, amount = e_rep[paid], m_idx[paid], amount[paid].astype(np.int64)
    sources = ["wage", "business", "pension"]
    income = pl.DataFrame({
        "id": person_id[e_rep] * 36 + src[e_rep] * 12 + m_idx,
        "person_id": person_id[e_rep],
        "month": _strings(month_names, m_idx),
        "source": _strings(sources, src[e_rep]),
        "amount_fen": amount,
    })
    p.update(amount=amount, district_factor=district_factor, e_rep=e_rep, m_idx=m_idx)
    return income


def _asset_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Housing and vehicles of each household, its assets (home, vehicles, deposits), and the
    adults' own deposits and securities."""
    (age, alive, amount, district_factor, e_rep, employment, hh_comm, hh_id, m_idx, n_hh, p_hh, person_id) = _take(
        p, "age", "alive", "amount", "district_factor", "e_rep", "employment", "hh_comm", "hh_id", "m_idx", "n_hh",
        "p_hh", "person_id")
    # Household income per living member (last month), housing, vehicles, assets.
    last = m_idx == 11
    hh_income = np.bincount(p_hh[e_rep[last]], weights=amount[last], minlength=n_hh)
    hh_alive = np.bincount(p_hh, weights=alive, minlength=n_hh)
    per_capita = hh_income / np.maximum(hh_alive, 1)
    hh_size = np.bincount(p_hh, minlength=n_hh)
    area_m2 = np.clip(rng.lognormal(np.log(55 + 14 * hh_size), 0.3), 15, 400).astype(np.int64)
    rich = np.clip(per_capita / 500_000, 0, 1)  # 5,000 yuan per head or more
    has_worker = np.bincount(p_hh, weights=(employment == "employed"), minlength=n_hh) > 0
    car_p = np.where(has_worker, 0.35 + 0.4 * rich, 0.08)
    vehicles = (rng.random(n_hh) < car_p).astype(np.int64) + (rng.random(n_hh) < 0.15 * car_p)
    owns = rng.random(n_hh) < 0.55 + 0.35 * rich
    hh_dfac = np.array([district_factor[c[:6]] for c in hh_comm])
    assets = []
    own_idx = np.flatnonzero(owns)
    assets.append((own_idx, 0, area_m2[own_idx] * 25_000 * hh_dfac[own_idx] * rng.lognormal(0, 0.2, len(own_idx))))
    car_idx = np.flatnonzero(vehicles > 0)
    assets.append((car_idx, 1, vehicles[car_idx] * rng.lognormal(np.log(150_000), 0.5, len(car_idx))))
    all_idx = np.arange(n_hh)
    assets.append((all_idx, 2, rng.lognormal(np.log(30_000 + per_capita / 100 * 10), 1.1, n_hh)))
    a_hh = np.concatenate([a[0] for a in assets])
    a_kind = np.concatenate([np.full(len(a[0]), a[1]) for a in assets])
    a_val = np.rint(np.concatenate([a[2] for a in assets])).astype(np.int64) * 100
    # The adults' own deposits and securities (kind 2, 3), owned by the person.
    adult = np.flatnonzero(alive & (age >= 18))
    deposit = adult[rng.random(len(adult)) < DEPOSIT_SHARE]
    securities = adult[rng.random(len(adult)) < SECURITIES_SHARE]
    p_who = np.concatenate([deposit, securities])
    p_kind = np.concatenate([np.full(len(deposit), 2), np.full(len(securities), 3)])
    p_val = np.rint(np.concatenate([rng.lognormal(np.log(DEPOSIT_MEDIAN), DEPOSIT_SIGMA, len(deposit)),
                                    rng.lognormal(np.log(SECURITIES_MEDIAN), SECURITIES_SIGMA, len(securities))])
                    ).astype(np.int64) * 100
    asset = pl.DataFrame({
        "id": np.concatenate([hh_id[a_hh] * 4 + a_kind, PERSON_ASSET_ID_BASE + person_id[p_who] * 2 + p_kind - 2]),
        "owner_kind": pl.Series(["household", "person"]).gather(
            pl.Series(np.repeat(np.array([0, 1], np.int64), [len(a_hh), len(p_who)]))),
        "owner_id": np.concatenate([hh_id[a_hh], person_id[p_who]]),
        "kind": _strings(["real_estate", "vehicle", "deposit", "securities"], np.concatenate([a_kind, p_kind])),
        "value_fen": np.concatenate([a_val, p_val]),
        "as_of": pl.repeat(config.as_of, len(a_hh) + len(p_who), eager=True),
    })
    p.update(area_m2=area_m2, hh_alive=hh_alive, per_capita=per_capita, vehicles=vehicles)
    return asset


def _benefit_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Benefits already held: 低保 for some low-income households, care for some severe disability."""
    (alive, as_of_days, hh_alive, hh_id, n, n_hh, per_capita, person_id, severe) = _take(
        p, "alive", "as_of_days", "hh_alive", "hh_id", "n", "n_hh", "per_capita", "person_id", "severe")
    # Benefits: 低保 for some low-income households, care subsidy for some severe disability.
    poor = np.flatnonzero((per_capita < config.dibao_line_fen) & (hh_alive > 0)
                          & (rng.random(n_hh) < config.dibao_take_up))
    dibao_amount = np.rint((config.dibao_line_fen - per_capita[poor]) * hh_alive[poor] / 100).astype(np.int64) * 100
    care = np.flatnonzero(severe & alive & (rng.random(n) < 0.8))
    b_kind = ["household"] * len(poor) + ["person"] * len(care)
    benefit = pl.DataFrame({
        "id": np.concatenate([hh_id[poor] * 2, person_id[care] * 2 + 1]),
        "subject_kind": b_kind,
        "subject_id": np.concatenate([hh_id[poor], person_id[care]]),
        "benefit_code": [config.enrolments.dibao] * len(poor) + [config.enrolments.disability_care] * len(care),
        "start_date": pl.Series(np.concatenate([as_of_days - rng.integers(30, 1500, len(poor)),
                                                as_of_days - rng.integers(30, 3000, len(care))])
                                .astype("datetime64[D]")),
        "end_date": pl.Series([None] * (len(poor) + len(care)), dtype=pl.Date),
        "amount_fen": pl.Series(np.concatenate([dibao_amount, np.zeros(len(care), np.int64)]))
        .set(pl.Series(np.arange(len(poor) + len(care)) >= len(poor)), None),
    }, schema_overrides={"subject_kind": pl.String, "benefit_code": pl.String})
    return benefit


def _guardianship_table(p: _Chunk) -> pl.DataFrame:
    """Guardianship of minors by the household's head and spouse."""
    (age, alive, birth_days, n_hh, p_hh, person_id, rel) = _take(
        p, "age", "alive", "birth_days", "n_hh", "p_hh", "person_id", "rel")
    # Guardianship of minors by the household's head and spouse.
    heads = np.flatnonzero(rel == REL.index("head"))
    spouses = np.flatnonzero(rel == REL.index("spouse"))
    head_of = np.full(n_hh, -1)
    head_of[p_hh[heads]] = heads
    spouse_of = np.full(n_hh, -1)
    spouse_of[p_hh[spouses]] = spouses
    minors = np.flatnonzero((age < 18) & np.isin(rel, [REL.index("child"), REL.index("grandchild")]))
    g_rows = []
    for who in (head_of, spouse_of):
        guard = who[p_hh[minors]]
        ok = guard >= 0
        ok[ok] &= alive[guard[ok]]
        g_rows.append((guard[ok], minors[ok]))
    g_guard = np.concatenate([g[0] for g in g_rows]).astype(np.int64)
    g_ward = np.concatenate([g[1] for g in g_rows]).astype(np.int64)
    birth_date = pl.Series(birth_days.astype("datetime64[D]"))
    guardianship = pl.DataFrame({
        "guardian_person_id": person_id[g_guard],
        "ward_person_id": person_id[g_ward],
        "kind": np.where(rel[g_ward] == REL.index("grandchild"), "appointed", "parent"),
        "valid_to": birth_date.gather(pl.Series(g_ward)).dt.offset_by("18y"),
    }, schema_overrides={"kind": pl.String})
    p.update(birth_date=birth_date, head_of=head_of)
    return guardianship


def _address_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Addresses of households (building, unit, room) and entities (street number only)."""
    (base, comm_idx, communities, hh_addr, n_ent, n_hh) = _take(
        p, "base", "comm_idx", "communities", "hh_addr", "n_ent", "n_hh")
    # Addresses: households (with building, unit, room) and entities (street number only).
    ent_comm_idx = rng.choice(len(communities), size=n_ent, p=_community_weights(config))
    a_comm_idx = np.concatenate([comm_idx, ent_comm_idx])
    road = (a_comm_idx * 7 + rng.integers(0, 6, len(a_comm_idx))) % (len(ROAD_STEMS) * len(ROAD_SUFFIXES))
    road_names = [s + x for s in ROAD_STEMS for x in ROAD_SUFFIXES]
    floors = rng.integers(1, 19, n_hh)
    is_hh = np.arange(len(a_comm_idx)) < n_hh
    address = pl.DataFrame({
        "id": np.concatenate([hh_addr, 2 * base + config.chunk_size + np.arange(n_ent, dtype=np.int64) + 1]),
        "region_code": communities[a_comm_idx],
        "road": _strings(road_names, road),
        "number": pl.Series(rng.integers(1, 400, len(a_comm_idx))).cast(pl.String),
        "building": pl.Series(rng.integers(1, 40, len(a_comm_idx))).cast(pl.String)
        .set(pl.Series(~is_hh), None),
        "unit": pl.Series(np.concatenate([rng.integers(1, 5, n_hh), np.zeros(n_ent, np.int64)]))
        .cast(pl.String).set(pl.Series(~is_hh), None),
        "room": pl.Series(np.concatenate([floors * 100 + rng.integers(1, 5, n_hh), np.zeros(n_ent, np.int64)]))
        .cast(pl.String).set(pl.Series(~is_hh), None),
    }, schema_overrides={"region_code": pl.String})
    p.update(ent_comm_idx=ent_comm_idx)
    lon, lat = _address_points(config, base, a_comm_idx, communities)
    return address.with_columns(pl.Series("longitude", lon, dtype=pl.Float64).fill_nan(None),
                                pl.Series("latitude", lat, dtype=pl.Float64).fill_nan(None))


def _address_points(config: CityConfig, base: int, comm_idx: IntArray,
                    communities: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A point (WGS-84) inside its community's cell for every address of a community with a
    centre; NaN (stored as null) elsewhere. A random stream of its own, so the city's other
    columns do not depend on whether it has shapes."""
    n = len(comm_idx)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    shapes = config.shapes
    if shapes is None:
        return lon, lat
    rng = np.random.default_rng([config.seed, base, 27])
    for district, codes in shapes.districts().items():
        centres = np.array([shapes.centres[c] for c in codes], dtype=np.float64)
        local = {c: i for i, c in enumerate(codes)}
        pos = np.array([local.get(str(c), -1) for c in communities], dtype=np.int64)[comm_idx]
        sel = np.flatnonzero(pos >= 0)
        if not len(sel):
            continue
        x, y = geo.points_in_cells(rng, centres, shapes.outlines.get(district), pos[sel])
        lon[sel], lat[sel] = np.round(x, 7), np.round(y, 7)
    return lon, lat


def _household_table(p: _Chunk) -> pl.DataFrame:
    """The households."""
    (area_m2, head_of, hh_addr, hh_comm, hh_id, person_id, vehicles) = _take(
        p, "area_m2", "head_of", "hh_addr", "hh_comm", "hh_id", "person_id", "vehicles")
    household = pl.DataFrame({
        "id": hh_id,
        "household_number": pl.Series([c[:6] for c in hh_comm]) + pl.Series(hh_id).cast(pl.String).str.zfill(10),
        "head_person_id": person_id[head_of],
        "region_code": hh_comm,
        "address_id": hh_addr,
        "housing_area_m2": area_m2,
        "vehicles": vehicles,
    }, schema_overrides={"region_code": pl.String})
    return household


def _person_table(config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """The persons."""
    (alive, birth_date, death_days, dies, dis_grade, dis_type, disabled, employment, has_phone, hh_addr,
     hh_id, hukou, id_number, male, marital, n, name, p_comm, p_hh, person_id, phone, student) = _take(
        p, "alive", "birth_date", "death_days", "dies", "dis_grade", "dis_type", "disabled", "employment",
        "has_phone", "hh_addr", "hh_id", "hukou", "id_number", "male", "marital", "n", "name", "p_comm",
        "p_hh", "person_id", "phone", "student")
    updated = dt.datetime.combine(config.as_of, dt.time(), dt.UTC)
    dis_type_s = _strings(list(DISABILITY_TYPES), dis_type).set(pl.Series(~disabled), None)
    person = pl.DataFrame({
        "id": person_id,
        "id_number": id_number,
        "name": name,
        "sex": np.where(male, "M", "F"),
        "birth_date": birth_date,
        "phone": phone.set(pl.Series(~has_phone), None),
        "hukou_region_code": hukou,
        "region_code": p_comm,
        "address_id": hh_addr[p_hh],
        "household_id": hh_id[p_hh],
        "alive": alive,
        "death_date": pl.Series(death_days.astype("datetime64[D]")).set(pl.Series(~dies), None),
        "marital_status": _strings(list(MARITAL), marital),
        "disability_type": dis_type_s,
        "disability_grade": pl.Series(dis_grade).set(pl.Series(~disabled), None),
        "employment_status": employment,
        "student_status": pl.Series(student).set(pl.Series(student == ""), None),
        "updated_at": pl.repeat(updated, n, eager=True).dt.cast_time_unit("us"),
    }, schema_overrides={"sex": pl.String, "hukou_region_code": pl.String, "region_code": pl.String,
                         "employment_status": pl.String})
    return person


def _member_table(p: _Chunk) -> pl.DataFrame:
    """Who belongs to which household, and how."""
    (hh_id, p_hh, person_id, rel) = _take(p, 'hh_id', 'p_hh', 'person_id', 'rel')
    member = pl.DataFrame({
        "household_id": hh_id[p_hh],
        "person_id": person_id,
        "relationship": _strings(list(REL), rel),
    })
    return member


def _entity_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Legal entities: names, USCC (authority + category + district + organisation code + check)."""
    (as_of_days, base, communities, ent_comm_idx, ent_kind, n_ent, person_id, reps) = _take(
        p, "as_of_days", "base", "communities", "ent_comm_idx", "ent_kind", "n_ent", "person_id", "reps")
    # Entities: names, USCC (authority + category + district + organisation code + check).
    ent_id = base + np.arange(n_ent, dtype=np.int64) + 1
    ent_comm = communities[ent_comm_idx]
    ent_district = np.array([c[:6] for c in ent_comm]) if n_ent else np.array([], dtype="U6")
    prefix = np.array([ENTITY_PREFIX[k] for k in ENTITY_KINDS])[ent_kind].astype(np.int64)
    body = (ent_id * 48271 + 1234567) % 10**8  # a bijection: unique organisation codes
    body_digits = _digits(body, 8)
    org_check = org_code_check_chars(body_digits)
    org_idx = np.hstack([body_digits, np.array([_uscc_index(c) for c in org_check.tobytes().decode()],
                                               dtype=np.int64).reshape(-1, 1)])
    head17 = np.hstack([_digits(prefix, 2), _digits(ent_district.astype(np.int64), 6), org_idx])
    uscc_chars = np.hstack([np.frombuffer(_ALPHA, np.uint8)[head17], uscc_check_chars(head17)[:, None]])
    names = _entity_names(rng, ent_kind, ent_district)
    status = rng.choice(["active", "revoked", "cancelled"], size=n_ent, p=[0.9, 0.03, 0.07])
    entity = pl.DataFrame({
        "id": ent_id,
        "uscc": _ascii(uscc_chars.astype(np.uint8), 18) if n_ent else pl.Series([], dtype=pl.String),
        "name": names,
        "entity_type": np.array(ENTITY_KINDS)[ent_kind],
        "legal_rep_person_id": pl.Series(np.where(reps >= 0, person_id[np.maximum(reps, 0)], 0))
        .set(pl.Series(reps < 0), None),
        "region_code": ent_comm,
        "address_id": 2 * base + config.chunk_size + np.arange(n_ent, dtype=np.int64) + 1,
        "status": status,
        "established_on": pl.Series((as_of_days - rng.integers(30, 30 * 365, n_ent)).astype("datetime64[D]")),
    }, schema_overrides={"entity_type": pl.String, "region_code": pl.String, "status": pl.String,
                         "name": pl.String})
    return entity


def _medical_table(rng: np.random.Generator, config: CityConfig, p: _Chunk) -> pl.DataFrame:
    """Medical-insurance settlements of the last 12 months: the bill, what the funds paid and what
    the person paid themselves (个人负担), settled on a day within the year before the as-of date."""
    (age, alive, as_of_days, n, person_id) = _take(p, "age", "alive", "as_of_days", "n", "person_id")
    rate = np.where(age >= 60, SETTLEMENTS_PER_YEAR[1], SETTLEMENTS_PER_YEAR[0])
    count = np.minimum(rng.poisson(rate), MAX_SETTLEMENTS) * alive
    who = np.repeat(np.arange(n), count)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(count) - count, count)
    inpatient = rng.random(len(who)) < INPATIENT_SHARE
    total = np.rint(np.where(inpatient, rng.lognormal(np.log(INPATIENT_MEDIAN), 0.8, len(who)),
                             rng.lognormal(np.log(OUTPATIENT_MEDIAN), 1.0, len(who)))).astype(np.int64) * 100
    fund = (total * rng.uniform(0.5, 0.85, len(who))).astype(np.int64)
    return pl.DataFrame({
        "id": person_id[who] * (MAX_SETTLEMENTS + 1) + nth,
        "person_id": person_id[who],
        "settled_on": pl.Series((as_of_days - rng.integers(1, 365, len(who))).astype("datetime64[D]")),
        "total_fen": total,
        "fund_paid_fen": fund,
        "out_of_pocket_fen": total - fund,
    })


def generate_chunk(config: CityConfig, chunk: int) -> Frames:
    """One self-contained piece of the city (deterministic in config and chunk index): its people,
    then one table after another. They share the chunk's one random stream, in this order, and
    later tables read what earlier ones worked out (incomes → assets and benefits; the heads of
    households → guardianship and households; entities' communities → their addresses)."""
    rng = np.random.default_rng([config.seed, chunk, 1])
    p = _people(rng, config, chunk)
    income = _income_table(rng, config, p)
    asset = _asset_table(rng, config, p)
    benefit = _benefit_table(rng, config, p)
    guardianship = _guardianship_table(p)
    address = _address_table(rng, config, p)
    household = _household_table(p)
    person = _person_table(config, p)
    member = _member_table(p)
    entity = _entity_table(rng, config, p)
    medical = _medical_table(rng, config, p)
    return {"address": address, "household": household, "person": person, "household_member": member,
            "guardianship": guardianship, "legal_entity": entity, "income_record": income,
            "asset_record": asset, "benefit_enrolment": benefit, "medical_settlement": medical}


_ALPHA = b"0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc_index(c: str) -> int:
    return _ALPHA.index(c.encode())


def _entity_names(rng: np.random.Generator, kind: IntArray, district: npt.NDArray[np.str_]) -> pl.Series:
    n = len(kind)
    nat = divisions.national()
    d_names = {d: nat[d].name for d in np.unique(district)}
    c_names = {d: nat[d[:4] + "00"].name.removesuffix("市") for d in np.unique(district)}
    place = pl.Series([d_names[d] for d in district], dtype=pl.String)
    city = pl.Series([c_names[d] for d in district], dtype=pl.String)
    brand = pl.select(pl.concat_str([_strings(BRAND_CHARS, rng.integers(0, len(BRAND_CHARS), n)),
                                     _strings(BRAND_CHARS, rng.integers(0, len(BRAND_CHARS), n))])).to_series()
    parts = {
        "company": pl.concat_str([pl.lit(city), brand, _strings(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n)),
                                  pl.lit("有限公司")]),
        "individual": pl.concat_str([pl.lit(place), brand, _strings(SHOPS, rng.integers(0, len(SHOPS), n))]),
        "social_org": pl.concat_str([pl.lit(place), brand, _strings(ORG_KINDS, rng.integers(0, len(ORG_KINDS), n))]),
        "institution": pl.concat_str([pl.lit(city), pl.lit(place), brand,
                                      _strings(INSTITUTIONS, rng.integers(0, len(INSTITUTIONS), n))]),
        "government": pl.concat_str([pl.lit(place), brand, _strings(AGENCIES, rng.integers(0, len(AGENCIES), n))]),
    }
    k = pl.Series(kind)
    expr: Any = pl.when(pl.lit(k) == 0).then(parts["company"])
    for i, name in enumerate(ENTITY_KINDS[1:], 1):
        expr = expr.when(pl.lit(k) == i).then(parts[name])
    return pl.select(expr.otherwise(pl.lit(""))).to_series().alias("name")


# --- the whole city --------------------------------------------------------------------


def generate(config: CityConfig) -> Iterator[Frames]:
    """The city chunk by chunk."""
    for c in range(config.chunks):
        yield generate_chunk(config, c)


def _write_chunk(config: CityConfig, chunk: int, out: Path) -> dict[str, int]:
    frames = generate_chunk(config, chunk)
    counts = {}
    for table, df in frames.items():
        df.write_parquet(out / table / f"part-{chunk:05d}.parquet", compression="zstd", statistics=False)
        counts[table] = df.height
    return counts


@dataclass
class Written:
    out: Path
    counts: dict[str, int]
    bytes: int


def write_parquet(config: CityConfig, out: Path, *, workers: int = 1,
                  on_chunk: Callable[[int], None] | None = None) -> Written:
    """Write the city to `out/<table>/part-NNNNN.parquet` and `out/manifest.json`.

    Chunks are written as they are made; with `workers` > 1 they are made in parallel
    processes, at most two per worker in flight, so memory stays bounded.
    """
    for table in TABLES:
        (out / table).mkdir(parents=True, exist_ok=True)
    totals = dict.fromkeys(TABLES, 0)

    def done(chunk: int, counts: dict[str, int]) -> None:
        for k, v in counts.items():
            totals[k] += v
        if on_chunk:
            on_chunk(config.chunk_persons(chunk))

    if workers <= 1 or config.chunks == 1:
        for c in range(config.chunks):
            done(c, _write_chunk(config, c, out))
    else:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            pending: dict[Future[dict[str, int]], int] = {}
            todo = iter(range(config.chunks))
            for c in todo:
                pending[pool.submit(_write_chunk, config, c, out)] = c
                if len(pending) >= 2 * workers:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        done(pending.pop(f), f.result())
            for f in list(pending):
                done(pending.pop(f), f.result())
    manifest = {"config": {**asdict(config), "as_of": config.as_of.isoformat()}, "counts": totals,
                "divisions": divisions.source(), "tables": list(TABLES)}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    return Written(out, totals, size)


def read_parquet(out: Path, tables: Collection[str] | None = None) -> Iterator[Frames]:
    """A written city back, chunk by chunk (the loader's input). With `tables`, only those are
    read; every other table comes back empty (its columns, no rows), so the loader skips it."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    chunks = sorted(p.name for p in (out / "person").glob("part-*.parquet"))
    for part in chunks:
        yield {t: pl.read_parquet(out / t / part) if tables is None or t in tables
               else pl.DataFrame(schema=pl.read_parquet_schema(out / t / part)) for t in manifest["tables"]}
