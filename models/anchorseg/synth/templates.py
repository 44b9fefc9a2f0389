"""Every piece of text a query can be made of, tagged by where it may be used.

Tag "T": train, val and test. Tag "X": held out, test only (new phrasings built from words
the train split also uses, plus a few words that only test uses on purpose). `train_vocab()`
is derived from the "T" entries, so the vocabulary and the generator cannot drift apart.
"""
from __future__ import annotations

T, X = "T", "X"

SIZE_WORDS = {"small": ["small", "little"], "medium": ["medium sized"], "large": ["big", "large"]}
TEXTURE_ADJ = {"plain": "plain", "striped": "striped", "dotted": "dotted"}
TEXTURE_WITH = {"plain": "with no pattern", "striped": "with stripes", "dotted": "with dots"}
HEAD_WORDS = {"thing": ("thing", "things"), "object": ("object", "objects")}

# function group -> verb phrases ("something to <vp>")
FUNCTION_VPS = {
    "eat": ["eat", "have as a snack"],
    "drink": ["drink from", "pour water into"],
    "cut": ["cut with", "cut bread with"],
    "write": ["write with", "draw with"],
    "sit": ["sit on", "rest on"],
    "light": ["light the room with", "see in the dark with"],
}
# world knowledge: the need, without naming the function
NEEDS = {
    "eat": ["i am hungry", "i would like a snack"],
    "drink": ["i am thirsty", "i want to pour some water"],
    "cut": ["i need to cut this bread", "i have to slice some cheese"],
    "write": ["i need to write a note", "i have to sign this letter"],
    "sit": ["my legs are tired", "i want to sit down for a while"],
    "light": ["the room is too dark", "i cannot see well in the dark"],
}

FUNC_CLAUSE = [("to {vp}", T), ("you can {vp}", T), ("i can {vp}", T), ("that you could {vp}", X)]
FUNC_BARE = [("something to {vp}", T), ("something you can {vp}", T), ("the thing i can {vp}", T),
             ("an object to {vp}", T), ("something that i could {vp}", X)]

NEED_SHORT = [("{need}", T), ("{need}, what can i use", T), ("{need}; which object can help", T),
              ("{need}, what would i use", X), ("{need}, which one could help", X)]
NEED_LONG = [
    ("{need}, so which of the objects on the table in this picture should i use right now", T),
    ("{need} and i am looking around the table; which object in the image could help me with that", T),
    ("{need}; please find the object on the table that i could use for that and show it to me", X),
    ("look at the picture: {need}, so which one of the things in front of you should i use", X),
]

SHORT_WRAP = [("{q}", T), ("find {q}", T), ("show me {q}", T), ("segment {q}", T),
              ("where is {q}", T), ("highlight {q}", T), ("which one is {q}", T),
              ("can you find {q}", X), ("where can i find {q}", X), ("please highlight {q}", X),
              ("find me {q}", X), ("{q} please", X)]
LONG_WRAP = [
    ("there are several objects on the table in front of the robot, please segment {q} in this picture", T),
    ("i am tidying up the room and i need you to find {q} for me, can you show me where it is", T),
    ("look carefully at all the things in the image and tell me exactly where {q} is located", T),
    ("my robot has to pick up {q} next, so please highlight it in the camera image for the robot", T),
    ("before we start cleaning the table, could you show me which part of the picture is {q}", T),
    ("can you show me exactly where {q} is in this picture, i need it for the robot", X),
    ("please look at the image in front of you and highlight {q}; the robot has to pick it up", X),
    ("in this picture there are several things on the table and i need you to find {q} for me", X),
]

EXTREME = {
    "left": [("the leftmost {np}", T), ("the {np} furthest to the left", T), ("the {np} on the far left", T),
             ("the {np} that is furthest to the left", X)],
    "right": [("the rightmost {np}", T), ("the {np} furthest to the right", T), ("the {np} on the far right", T),
              ("the {np} that is furthest to the right", X)],
    "top": [("the topmost {np}", T), ("the highest {np}", T), ("the {np} at the top", T),
            ("the {np} that is highest in the picture", X)],
    "bottom": [("the lowest {np}", T), ("the {np} at the bottom", T), ("the bottom {np}", T),
               ("the {np} that is lowest in the picture", X)],
}
RELATION = {
    "left": ["to the left of", "left of"],
    "right": ["to the right of", "right of"],
    "above": ["above", "over"],
    "below": ["below", "under"],
    "next": ["next to", "beside"],
}
REL_FORM = [("{t} {rel} {r}", T), ("{t} that is {rel} {r}", X)]

SUPER = {
    "big": [("the biggest {np}", T), ("the largest {np}", T), ("the {np} that is the biggest", X)],
    "small": [("the smallest {np}", T), ("the {np} that is the smallest", X)],
}
SUPER_TWO = {
    "big": [("the bigger of the two {pl}", T), ("the larger of the two {pl}", T),
            ("the bigger one of the two {pl}", X)],
    "small": [("the smaller of the two {pl}", T), ("the smaller one of the two {pl}", X)],
}

NEG_ATTR = [("the {np} that is not {w}", T), ("the {np} which is not {w}", T),
            ("the one of the {pl} that is not {w}", X)]
NEG_CAT = [("the {np} that is not a {cat}", T), ("the {np} which is not a {cat}", T),
           ("the one {np} that is not a {cat}", X)]
NEG_GROUP = [("the {np} that you cannot {vp}", T), ("the {np} you cannot {vp}", T),
             ("the one {np} that i cannot {vp}", X)]

SAME = [("the {np} with the same {k} as {r}", T), ("the {np} that has the same {k} as {r}", T),
        ("the {np} that is the same {k} as {r}", X), ("the {np} of the same {k} as {r}", X)]
SAME_KEY = {"colour": ["colour", "color"], "texture": ["pattern"]}

