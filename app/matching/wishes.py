"""What a member may want from a mentor, and what a mentor may offer: one shared list."""

WISHES = {
    "listening": "Someone who listens and asks good questions",
    "career": "Practical advice about work or study",
    "introductions": "Introductions to people and groups",
    "first_steps": "Help taking a first step",
    "check_ins": "Regular check-ins to keep me on track",
}


def wish_label(key: str) -> str:
    """The wish as a person reads it inside a sentence (an unknown key as it is)."""
    label = WISHES.get(key)
    return label[0].lower() + label[1:] if label else key
