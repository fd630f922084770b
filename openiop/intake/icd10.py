"""ICD-10-CM diagnoses recorded at admission: a small catalogue, shape checks and search.

ICD-10-CM is published by the US government (CDC's National Center for Health
Statistics, with CMS), so its codes and descriptions may be used freely. The catalogue
below holds the billable codes an IOP meets most often: substance-related disorders
(F10-F19) and a few common co-occurring conditions (depression, generalised anxiety,
PTSD). It is a convenience for picking a code, not the whole classification: a valid
code that is not listed here can still be recorded (`describe` returns "" for it).

Every code was checked to be billable, and its description to be the official one
(spelling and punctuation included), against the CDC's April 2026 (FY2026) tabular
list. The official punctuation is not uniform: "Sedative, hypnotic or anxiolytic"
in F13.10 but "Sedative, hypnotic, or anxiolytic" in F13.90, for example.
"""

from __future__ import annotations

import re

CATALOGUE: dict[str, str] = {
    # F10 Alcohol related disorders
    "F10.10": "Alcohol abuse, uncomplicated",
    "F10.11": "Alcohol abuse, in remission",
    "F10.120": "Alcohol abuse with intoxication, uncomplicated",
    "F10.129": "Alcohol abuse with intoxication, unspecified",
    "F10.130": "Alcohol abuse with withdrawal, uncomplicated",
    "F10.139": "Alcohol abuse with withdrawal, unspecified",
    "F10.20": "Alcohol dependence, uncomplicated",
    "F10.21": "Alcohol dependence, in remission",
    "F10.220": "Alcohol dependence with intoxication, uncomplicated",
    "F10.229": "Alcohol dependence with intoxication, unspecified",
    "F10.230": "Alcohol dependence with withdrawal, uncomplicated",
    "F10.231": "Alcohol dependence with withdrawal delirium",
    "F10.232": "Alcohol dependence with withdrawal with perceptual disturbance",
    "F10.239": "Alcohol dependence with withdrawal, unspecified",
    "F10.24": "Alcohol dependence with alcohol-induced mood disorder",
    "F10.280": "Alcohol dependence with alcohol-induced anxiety disorder",
    "F10.282": "Alcohol dependence with alcohol-induced sleep disorder",
    "F10.288": "Alcohol dependence with other alcohol-induced disorder",
    "F10.29": "Alcohol dependence with unspecified alcohol-induced disorder",
    "F10.90": "Alcohol use, unspecified, uncomplicated",
    "F10.91": "Alcohol use, unspecified, in remission",
    # F11 Opioid related disorders
    "F11.10": "Opioid abuse, uncomplicated",
    "F11.11": "Opioid abuse, in remission",
    "F11.120": "Opioid abuse with intoxication, uncomplicated",
    "F11.13": "Opioid abuse with withdrawal",
    "F11.20": "Opioid dependence, uncomplicated",
    "F11.21": "Opioid dependence, in remission",
    "F11.220": "Opioid dependence with intoxication, uncomplicated",
    "F11.23": "Opioid dependence with withdrawal",
    "F11.24": "Opioid dependence with opioid-induced mood disorder",
    "F11.29": "Opioid dependence with unspecified opioid-induced disorder",
    "F11.90": "Opioid use, unspecified, uncomplicated",
    "F11.91": "Opioid use, unspecified, in remission",
    "F11.93": "Opioid use, unspecified with withdrawal",
    # F12 Cannabis related disorders
    "F12.10": "Cannabis abuse, uncomplicated",
    "F12.11": "Cannabis abuse, in remission",
    "F12.13": "Cannabis abuse with withdrawal",
    "F12.20": "Cannabis dependence, uncomplicated",
    "F12.21": "Cannabis dependence, in remission",
    "F12.220": "Cannabis dependence with intoxication, uncomplicated",
    "F12.23": "Cannabis dependence with withdrawal",
    "F12.280": "Cannabis dependence with cannabis-induced anxiety disorder",
    "F12.90": "Cannabis use, unspecified, uncomplicated",
    "F12.91": "Cannabis use, unspecified, in remission",
    "F12.93": "Cannabis use, unspecified with withdrawal",
    # F13 Sedative, hypnotic, or anxiolytic related disorders
    "F13.10": "Sedative, hypnotic or anxiolytic abuse, uncomplicated",
    "F13.11": "Sedative, hypnotic or anxiolytic abuse, in remission",
    "F13.130": "Sedative, hypnotic or anxiolytic abuse with withdrawal, uncomplicated",
    "F13.20": "Sedative, hypnotic or anxiolytic dependence, uncomplicated",
    "F13.21": "Sedative, hypnotic or anxiolytic dependence, in remission",
    "F13.230": "Sedative, hypnotic or anxiolytic dependence with withdrawal, uncomplicated",
    "F13.231": "Sedative, hypnotic or anxiolytic dependence with withdrawal delirium",
    "F13.232": (
        "Sedative, hypnotic or anxiolytic dependence with withdrawal with perceptual disturbance"
    ),
    "F13.239": "Sedative, hypnotic or anxiolytic dependence with withdrawal, unspecified",
    "F13.90": "Sedative, hypnotic, or anxiolytic use, unspecified, uncomplicated",
    "F13.91": "Sedative, hypnotic or anxiolytic use, unspecified, in remission",
    # F14 Cocaine related disorders
    "F14.10": "Cocaine abuse, uncomplicated",
    "F14.11": "Cocaine abuse, in remission",
    "F14.120": "Cocaine abuse with intoxication, uncomplicated",
    "F14.13": "Cocaine abuse, unspecified with withdrawal",
    "F14.20": "Cocaine dependence, uncomplicated",
    "F14.21": "Cocaine dependence, in remission",
    "F14.220": "Cocaine dependence with intoxication, uncomplicated",
    "F14.23": "Cocaine dependence with withdrawal",
    "F14.24": "Cocaine dependence with cocaine-induced mood disorder",
    "F14.90": "Cocaine use, unspecified, uncomplicated",
    "F14.91": "Cocaine use, unspecified, in remission",
    # F15 Other stimulant related disorders (methamphetamine, amphetamines, caffeine)
    "F15.10": "Other stimulant abuse, uncomplicated",
    "F15.11": "Other stimulant abuse, in remission",
    "F15.120": "Other stimulant abuse with intoxication, uncomplicated",
    "F15.13": "Other stimulant abuse with withdrawal",
    "F15.20": "Other stimulant dependence, uncomplicated",
    "F15.21": "Other stimulant dependence, in remission",
    "F15.220": "Other stimulant dependence with intoxication, uncomplicated",
    "F15.23": "Other stimulant dependence with withdrawal",
    "F15.24": "Other stimulant dependence with stimulant-induced mood disorder",
    "F15.90": "Other stimulant use, unspecified, uncomplicated",
    "F15.91": "Other stimulant use, unspecified, in remission",
    # F16 Hallucinogen related disorders
    "F16.10": "Hallucinogen abuse, uncomplicated",
    "F16.11": "Hallucinogen abuse, in remission",
    "F16.20": "Hallucinogen dependence, uncomplicated",
    "F16.21": "Hallucinogen dependence, in remission",
    "F16.283": (
        "Hallucinogen dependence with hallucinogen persisting perception disorder (flashbacks)"
    ),
    "F16.90": "Hallucinogen use, unspecified, uncomplicated",
    "F16.91": "Hallucinogen use, unspecified, in remission",
    # F17 Nicotine dependence
    "F17.200": "Nicotine dependence, unspecified, uncomplicated",
    "F17.201": "Nicotine dependence, unspecified, in remission",
    "F17.210": "Nicotine dependence, cigarettes, uncomplicated",
    "F17.211": "Nicotine dependence, cigarettes, in remission",
    "F17.220": "Nicotine dependence, chewing tobacco, uncomplicated",
    "F17.290": "Nicotine dependence, other tobacco product, uncomplicated",
    # F18 Inhalant related disorders
    "F18.10": "Inhalant abuse, uncomplicated",
    "F18.11": "Inhalant abuse, in remission",
    "F18.20": "Inhalant dependence, uncomplicated",
    "F18.21": "Inhalant dependence, in remission",
    "F18.90": "Inhalant use, unspecified, uncomplicated",
    "F18.91": "Inhalant use, unspecified, in remission",
    # F19 Other psychoactive substance related disorders (includes polysubstance use)
    "F19.10": "Other psychoactive substance abuse, uncomplicated",
    "F19.11": "Other psychoactive substance abuse, in remission",
    "F19.20": "Other psychoactive substance dependence, uncomplicated",
    "F19.21": "Other psychoactive substance dependence, in remission",
    "F19.230": "Other psychoactive substance dependence with withdrawal, uncomplicated",
    "F19.239": "Other psychoactive substance dependence with withdrawal, unspecified",
    "F19.90": "Other psychoactive substance use, unspecified, uncomplicated",
    "F19.91": "Other psychoactive substance use, unspecified, in remission",
    # Common co-occurring conditions
    "F32.0": "Major depressive disorder, single episode, mild",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F32.2": "Major depressive disorder, single episode, severe without psychotic features",
    "F32.9": "Major depressive disorder, single episode, unspecified",
    "F32.A": "Depression, unspecified",
    "F33.0": "Major depressive disorder, recurrent, mild",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F33.2": "Major depressive disorder, recurrent severe without psychotic features",
    "F33.9": "Major depressive disorder, recurrent, unspecified",
    "F41.1": "Generalized anxiety disorder",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F43.12": "Post-traumatic stress disorder, chronic",
}

# ICD-10-CM shape: a letter, two digits, then optionally a dot and 1-4 letters or digits
# (the category's 4th to 7th characters). Checked after upper-casing and stripping.
_SHAPE = re.compile(r"([A-Z])([0-9]{2})\.?([0-9A-Z]{1,4})?")


def normalize(code: str) -> str:
    """'f1020' -> 'F10.20', ' F10.20 ' -> 'F10.20', 'f41' -> 'F41'.

    Raises ValueError when the text does not have the shape of an ICD-10-CM code.
    It does not check that the code exists.
    """
    text = code.strip().upper()
    match = _SHAPE.fullmatch(text)
    if match is None or text.endswith("."):
        raise ValueError(
            f"“{code.strip()}” is not an ICD-10-CM code: expected a letter, two digits "
            "and up to four more characters, for example F10.20."
        )
    letter, digits, rest = match.groups()
    return f"{letter}{digits}.{rest}" if rest else f"{letter}{digits}"


def describe(code: str) -> str:
    """The official description if the code is in the catalogue, else ""."""
    try:
        return CATALOGUE.get(normalize(code), "")
    except ValueError:
        return ""


def is_sud(code: str) -> bool:
    """True for a substance-related disorder, F10 to F19 (nicotine included)."""
    category = normalize(code)[:3]
    return category[0] == "F" and 10 <= int(category[1:]) <= 19


def search(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """Catalogue entries matching `text`, as (code, description), for an autocomplete.

    A query that looks like a code matches codes starting with it ("f10.2", "F102");
    otherwise every word must appear in the code or description ("alcohol remission").
    Code-prefix matches come first, then catalogue order. Blank text matches nothing.
    """
    words = text.strip().upper().split()
    if not words or limit <= 0:
        return []
    prefix = words[0].replace(".", "") if len(words) == 1 else ""
    by_prefix: list[tuple[str, str]] = []
    by_words: list[tuple[str, str]] = []
    for code, description in CATALOGUE.items():
        if prefix and code.replace(".", "").startswith(prefix):
            by_prefix.append((code, description))
            continue
        haystack = f"{code} {description}".upper()
        if all(word in haystack for word in words):
            by_words.append((code, description))
    return (by_prefix + by_words)[:limit]
