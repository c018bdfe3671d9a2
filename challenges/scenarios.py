"""The scenario catalog: groups of AI application scenarios and their sectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Sector:
    slug: str
    en: str
    zh: str
    group: str
    examples: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Group:
    slug: str
    en: str
    zh: str
    sectors: tuple[Sector, ...] = field(default_factory=tuple)

    def name(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Catalog:
    groups: tuple[Group, ...]
    demonstrations: tuple[dict, ...]

    def sector(self, slug: str) -> Sector | None:
        return next((s for g in self.groups for s in g.sectors if s.slug == slug), None)

    def group(self, slug: str) -> Group | None:
        return next((g for g in self.groups if g.slug == slug), None)

    def sector_slugs(self) -> list[str]:
        return [s.slug for g in self.groups for s in g.sectors]


@cache
def catalog() -> Catalog:
    """Read once, on first use (never at import time)."""
    text = resources.files("challenges").joinpath("scenarios.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    groups = []
    for g in raw["groups"]:
        sectors = tuple(
            Sector(s["slug"], s["en"], s["zh"], g["slug"], tuple(s.get("examples", ())))
            for s in g["sectors"]
        )
        groups.append(Group(g["slug"], g["en"], g["zh"], sectors))
    return Catalog(tuple(groups), tuple(raw.get("demonstration_scenarios", ())))
