"""The twelve domains of the provincial digital-society plan (婴育 … 家政, annex 4 of the seeds) and
the life events (人生事件) a resident looks for services by. Items and one-things name one
domain and any life events; both lists are fixed here so every pack speaks the same vocabulary."""

from __future__ import annotations

from typing import Literal

DomainId = Literal["infant", "education", "employment", "housing", "culture", "sports", "tourism", "medical",
                   "elderly", "assistance", "transport", "domestic"]
LifeEventId = Literal["birth", "schooling", "job", "home", "illness", "hardship", "disability", "old-age",
                      "driving", "leisure", "travel", "family-services"]

# id → (zh, en), in the plan's order: official terms, the same in every pack (not gettext msgids).
DOMAINS: dict[str, tuple[str, str]] = {
    "infant": ("婴育", "Infants and childcare"),
    "education": ("教育", "Education"),
    "employment": ("就业", "Employment"),
    "housing": ("居住", "Housing"),
    "culture": ("文化", "Culture"),
    "sports": ("体育", "Sports"),
    "tourism": ("旅游", "Tourism"),
    "medical": ("医疗", "Medical care"),
    "elderly": ("养老", "Elderly care"),
    "assistance": ("救助", "Social assistance"),
    "transport": ("交通", "Transport"),
    "domestic": ("家政", "Domestic services"),
}

LIFE_EVENTS: dict[str, tuple[str, str]] = {
    "birth": ("生育出生", "Having a baby"),
    "schooling": ("入学上学", "Going to school"),
    "job": ("就业创业", "Work and business"),
    "home": ("安居置业", "Buying or renting a home"),
    "illness": ("看病就医", "Seeing a doctor"),
    "hardship": ("困难帮扶", "Hard times"),
    "disability": ("残疾人服务", "Living with a disability"),
    "old-age": ("退休养老", "Retirement and old age"),
    "driving": ("驾车出行", "Driving"),
    "leisure": ("文体休闲", "Culture and sport"),
    "travel": ("旅游出行", "Travel"),
    "family-services": ("家政服务", "Help at home"),
}
