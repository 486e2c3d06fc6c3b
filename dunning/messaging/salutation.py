"""How a message greets the debtor: the person it is addressed to, in the debtor's language and the policy's tone.

Dutch, formal (the default): "Geachte heer Jansen," / "Geachte mevrouw Van den Berg," when we know whether to
write heer or mevrouw, else "Geachte heer, mevrouw," (the name then stands in the address, "t.a.v."). Informal
(policy `tone = "informal"`): "Beste Jan," when the name has a first name, else the formal greeting.
English: "Dear Mr Jansen," / "Dear Ms Jansen," / "Dear Jan Jansen," (name, no title) / "Dear Sir or Madam,"
(nobody named); informal "Dear Jan,". The closing answers the greeting (`closing`): "Yours sincerely," after a
name, "Yours faithfully," after "Dear Sir or Madam,".

The person addressed is the contact person a business debtor gave (`contact_name`), or a consumer themself.
A business without a contact person is greeted as "Geachte heer, mevrouw," / "Dear Sir or Madam,": never by its
company name. Nothing is guessed from a first name: heer or mevrouw comes from the data (`title`) or not at all.
Pure: no I/O."""

from __future__ import annotations

TONES = ("formal", "informal")
# The values a title may take, and what each means; "" and None are "not known".
TITLES = {"heer": "man", "mr": "man", "mevrouw": "woman", "ms": "woman"}
_WORDS = {
    "nl": {"man": "heer", "woman": "mevrouw"},
    "en": {"man": "Mr", "woman": "Ms"},
}
# Dutch (and a few neighbouring) surname particles: "Jan van der Berg" -> "van der Berg".
_PARTICLES = frozenset({
    "van", "de", "der", "den", "het", "ter", "ten", "te", "in", "op", "onder", "uit", "'t", "\u2019t", "aan", "bij",
    "d'", "l'", "la", "le", "les", "du", "des", "da", "di", "del", "della", "dos", "von", "zu", "vom", "zum", "zur",
})


def addressee(*, kind: str, name: str | None, contact_name: str | None) -> str | None:
    """The person a message to this debtor is addressed to: the contact person, else a consumer themself; a
    business without a contact person has nobody to name."""
    if contact_name and contact_name.strip():
        return " ".join(contact_name.split())
    if kind == "consumer" and name and name.strip():
        return " ".join(name.split())
    return None


def salutation(language: str, name: str | None, *, title: str | None = None, tone: str = "formal") -> str:
    """The greeting line, with its comma. `name`: the person addressed (None: nobody in particular); `title`:
    heer, mevrouw, mr or ms (any case, a trailing full stop allowed), or None/"" when not known."""
    if language not in _WORDS:
        raise ValueError(f"unsupported language {language!r}; expected one of {sorted(_WORDS)}")
    if tone not in TONES:
        raise ValueError(f"unknown tone {tone!r}; expected formal or informal")
    form = _form(title)
    name = " ".join(name.split()) if name else None
    if tone == "informal" and name and (first := first_name(name)):
        return f"Beste {first}," if language == "nl" else f"Dear {first},"
    if language == "nl":
        if form is None:
            return "Geachte heer, mevrouw,"
        word = _WORDS["nl"][form]
        return f"Geachte {word} {surname(name, capitalise=True)}," if name else f"Geachte {word},"
    if form is not None and name:
        return f"Dear {_WORDS['en'][form]} {surname(name)},"
    return f"Dear {name}," if name else "Dear Sir or Madam,"


def closing(language: str, greeting: str, *, tone: str = "formal") -> str:
    """The words before the signature, matching the greeting: Dutch "Met vriendelijke groet," in every letter;
    English "Yours sincerely," after a greeting by name, "Yours faithfully," after "Dear Sir or Madam," (British
    usage), "Kind regards," where the policy's tone is informal."""
    if language == "nl":
        return "Met vriendelijke groet,"
    if tone == "informal":
        return "Kind regards,"
    return "Yours faithfully," if greeting == "Dear Sir or Madam," else "Yours sincerely,"


def surname(name: str, *, capitalise: bool = False) -> str:
    """The family name in a full name: "Jan de Vries" -> "de Vries", "J.P. van den Berg" -> "van den Berg",
    "Anna Jansen-Smit" -> "Jansen-Smit". `capitalise`: the first particle with a capital, as Dutch writes a
    surname without the first name before it ("Geachte heer De Vries")."""
    words = name.split()
    start = len(words) - 1
    if words[0].lower() in _PARTICLES:
        start = 0  # "van Dijk": the surname alone
    else:
        for i in range(1, len(words) - 1):
            if words[i].lower() in _PARTICLES:
                start = i
                break
    found = " ".join(words[start:])
    if capitalise and words[start].lower() in _PARTICLES:
        found = found[0].upper() + found[1:]
    return found


def first_name(name: str) -> str | None:
    """The first name, when the name starts with one: "Jan de Vries" -> "Jan"; "J. de Vries", "de Vries" or a
    single word (a first name or a surname?) have none."""
    words = name.split()
    first = words[0]
    if len(words) < 2 or first.lower() in _PARTICLES or "." in first or len(first) < 2 or first.isupper():
        return None
    return first


def _form(title: str | None) -> str | None:
    if title is None or not title.strip():
        return None
    key = title.strip().rstrip(".").lower()
    if key not in TITLES:
        raise ValueError(f"unknown title {title!r}; expected heer, mevrouw, mr or ms")
    return TITLES[key]
