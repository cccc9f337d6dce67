"""The twelve domains of the provincial digital-society plan (婴育 … 家政, annex 4 of the seeds) and
the life events (人生事件) a resident looks for services by. Items and one-things name one
domain and any life events; both lists are fixed here so every pack speaks the same vocabulary."""

from __future__ import annotations

from typing import Literal

from tongban.core.i18n import N_

DomainId = Literal["infant", "education", "employment", "housing", "culture", "sports", "tourism", "medical",
                   "elderly", "assistance", "transport", "domestic"]
LifeEventId = Literal["birth", "schooling", "job", "home", "illness", "hardship", "disability", "old-age",
                      "driving", "leisure", "travel", "family-services"]

# id → (zh, English msgid); in the plan's order.
DOMAINS: dict[str, tuple[str, str]] = {
    "infant": ("婴育", N_("Infants and childcare")),
    "education": ("教育", N_("Education")),
    "employment": ("就业", N_("Employment")),
    "housing": ("居住", N_("Housing")),
    "culture": ("文化", N_("Culture")),
    "sports": ("体育", N_("Sports")),
    "tourism": ("旅游", N_("Tourism")),
    "medical": ("医疗", N_("Medical care")),
    "elderly": ("养老", N_("Elderly care")),
    "assistance": ("救助", N_("Social assistance")),
    "transport": ("交通", N_("Transport")),
    "domestic": ("家政", N_("Domestic services")),
}

LIFE_EVENTS: dict[str, tuple[str, str]] = {
    "birth": ("生育出生", N_("Having a baby")),
    "schooling": ("入学上学", N_("Going to school")),
    "job": ("就业创业", N_("Work and business")),
    "home": ("安居置业", N_("Buying or renting a home")),
    "illness": ("看病就医", N_("Seeing a doctor")),
    "hardship": ("困难帮扶", N_("Hard times")),
    "disability": ("残疾人服务", N_("Living with a disability")),
    "old-age": ("退休养老", N_("Retirement and old age")),
    "driving": ("驾车出行", N_("Driving")),
    "leisure": ("文体休闲", N_("Culture and sport")),
    "travel": ("旅游出行", N_("Travel")),
    "family-services": ("家政服务", N_("Help at home")),
}
