"""Place-name normalisation shared by the registry and the data loaders.

Data sources spell the same town many ways: "Ménaka" / "Menaka", "Tombouctou (Timbuktu)",
"Mopti/Sevare" / "Mopti-Sévaré", upper-case gazetteer names. Matching a source's location
to a registry site compares normalised names, so every layer must normalise the same way.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_place(name: str) -> str:
    """Return ``name`` without accents, case or punctuation, words separated by one space.

    >>> normalize_place("Tombouctou (Timbuktu)")
    'tombouctou timbuktu'
    >>> normalize_place("Mopti-Sévaré") == normalize_place("MOPTI / SEVARE")
    True
    """
    decomposed = unicodedata.normalize("NFKD", name)
    # Combining marks are the accents split off by NFKD; dropping them maps "é" to "e".
    unaccented = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub(" ", unaccented.casefold()).strip()
