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
FUNC_BARE = [("something to {vp}", T), ("something you can {vp}", T), ("the thing i can {vp}", T), ("an object to {vp}", T), ("something that i could {vp}", X)]

NEED_SHORT = [
    ("{need}", T),
    ("{need}, what can i use", T),
    ("{need}; which object can help", T),
    ("{need}, what would i use", X),
    ("{need}, which one could help", X),
]
NEED_LONG = [
    ("{need}, so which of the objects on the table in this picture should i use right now", T),
    ("{need} and i am looking around the table; which object in the image could help me with that", T),
    ("{need}; please find the object on the table that i could use for that and show it to me", X),
    ("look at the picture: {need}, so which one of the things in front of you should i use", X),
]

SHORT_WRAP = [
    ("{q}", T),
    ("find {q}", T),
    ("show me {q}", T),
    ("segment {q}", T),
    ("where is {q}", T),
    ("highlight {q}", T),
    ("which one is {q}", T),
    ("can you find {q}", X),
    ("where can i find {q}", X),
    ("please highlight {q}", X),
    ("find me {q}", X),
    ("{q} please", X),
]
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
    "left": [("the leftmost {np}", T), ("the {np} furthest to the left", T), ("the {np} on the far left", T), ("the {np} that is furthest to the left", X)],
    "right": [
        ("the rightmost {np}", T),
        ("the {np} furthest to the right", T),
        ("the {np} on the far right", T),
        ("the {np} that is furthest to the right", X),
    ],
    "top": [("the topmost {np}", T), ("the highest {np}", T), ("the {np} at the top", T), ("the {np} that is highest in the picture", X)],
    "bottom": [("the lowest {np}", T), ("the {np} at the bottom", T), ("the bottom {np}", T), ("the {np} that is lowest in the picture", X)],
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
    "big": [("the bigger of the two {pl}", T), ("the larger of the two {pl}", T), ("the bigger one of the two {pl}", X)],
    "small": [("the smaller of the two {pl}", T), ("the smaller one of the two {pl}", X)],
}

NEG_ATTR = [("the {np} that is not {w}", T), ("the {np} which is not {w}", T), ("the one of the {pl} that is not {w}", X)]
NEG_CAT = [("the {np} that is not a {cat}", T), ("the {np} which is not a {cat}", T), ("the one {np} that is not a {cat}", X)]
NEG_GROUP = [("the {np} that you cannot {vp}", T), ("the {np} you cannot {vp}", T), ("the one {np} that i cannot {vp}", X)]

SAME = [
    ("the {np} with the same {k} as {r}", T),
    ("the {np} that has the same {k} as {r}", T),
    ("the {np} that is the same {k} as {r}", X),
    ("the {np} of the same {k} as {r}", X),
]
SAME_KEY = {"colour": ["colour", "color"], "texture": ["pattern"]}


# ------------------------------------------------------------------ generator v2 (wide wording)
# Only the v2 splits (train, dev, framed: sample.SPLITS) use these, through queries.WideWording and
# style.restyle; val and test keep the v1 tables above, so their committed bytes do not change.
# Every entry is a train ("T") piece: held-out wordings stay the "X" entries above.
MORE = {
    "SHORT_WRAP": [
        ("point to {q}", T),
        ("point out {q}", T),
        ("mark {q}", T),
        ("locate {q}", T),
        ("select {q}", T),
        ("i'm looking for {q}", T),
        ("i need {q}", T),
        ("get me {q}", T),
        ("where's {q}", T),
        ("look for {q}", T),
        ("help me find {q}", T),
        ("do you see {q}", T),
        ("hey robot, grab {q}", T),
        ("ok robot, segment {q}", T),
        ("pick up {q}", T),
        ("could you point out {q}", T),
        ("would you mark {q}", T),
        ("give me a mask of {q}", T),
        ("{q}, where is it", T),
        ("{q}: show me", T),
        ("{q}? point it out", T),
        ("{q}, mark it", T),
        ("{q} - which one is it", T),
    ],
    "LONG_WRAP": [
        ("{q} is what the robot has to pick up next, so mark it in the camera image for it", T),
        ("the robot is about to tidy the table and it needs {q} first; point it out in this picture", T),
        ("hey, before the robot starts moving things around, tell me which part of this image shows {q}", T),
        ("when you look at the picture from the camera, which pixels belong to {q}; i want to send the robot there", T),
        ("for the next step of the task the robot needs {q}, so mark it in the image so that it can grab it", T),
        ("i'm clearing up after lunch and i'd like the robot to take {q} away, where is it in this image", T),
    ],
    "NEED_SHORT": [
        ("{need}, what should i grab", T),
        ("{need}. any ideas", T),
        ("{need}, help me out", T),
        ("help, {need}", T),
        ("what can help? {need}", T),
        ("{need} - which thing", T),
    ],
    "NEED_LONG": [
        ("which of the things on the table in this image would be the right one for me to use, because {need}", T),
        ("{need}, so please look at the picture and point at the thing on the table that would help me most", T),
    ],
    "FUNC_CLAUSE": [("for me to {vp}", T), ("that one can {vp}", T), ("i could use to {vp}", T)],
    "FUNC_BARE": [("anything i can {vp}", T), ("something for me to {vp}", T), ("whatever i can {vp}", T)],
    "EXTREME.left": [("the {np} farthest to the left", T), ("the {np} closest to the left edge", T)],
    "EXTREME.right": [("the {np} farthest to the right", T), ("the {np} closest to the right edge", T)],
    "EXTREME.top": [("the uppermost {np}", T), ("the {np} nearest the top", T)],
    "EXTREME.bottom": [("the bottommost {np}", T), ("the {np} nearest the bottom", T)],
    "REL_FORM": [("{rel} {r}, {t}", T), ("{t}, the one {rel} {r}", T)],
    "SUPER.big": [("the {np} that looks biggest", T), ("the hugest {np}", T)],
    "SUPER.small": [("the {np} that looks smallest", T), ("the tiniest {np}", T)],
    "SUPER_TWO.big": [("of the two {pl}, the bigger one", T)],
    "SUPER_TWO.small": [("of the two {pl}, the smaller one", T)],
    "NEG_ATTR": [("not the {w} one, the other {np}", T), ("the {np} but not the {w} one", T)],
    "NEG_CAT": [("the {np}, but not a {cat}", T), ("the {np} that isn't a {cat}", T)],
    "NEG_GROUP": [("the {np} you don't {vp}", T), ("the {np} that you can't {vp}", T)],
    "SAME": [("the {np} matching the {k} of {r}", T), ("the {np} whose {k} matches {r}", T), ("the {np} in the same {k} as {r}", T)],
}
# word lists (Wording.word) extended in v2, by the table and key they extend
MORE_WORDS = {
    "SIZE_WORDS": {"small": ["tiny"], "large": ["huge"]},
    "FUNCTION_VPS": {
        "eat": ["munch on", "snack on"],
        "drink": ["sip from", "drink out of"],
        "cut": ["slice with", "chop with"],
        "write": ["jot notes with", "scribble with"],
        "sit": ["sit down on", "perch on"],
        "light": ["brighten the room with", "light up the room with"],
    },
    "NEEDS": {
        "eat": ["i'm starving", "my stomach is growling"],
        "drink": ["my throat is dry", "i need a drink"],
        "cut": ["this rope needs cutting", "i want to trim this paper"],
        "write": ["i want to jot something down", "i must fill in this form"],
        "sit": ["my feet hurt", "i have been standing all day"],
        "light": ["it's too dark in here", "i can't see a thing"],
    },
    "RELATION": {
        "left": ["on the left of"],
        "right": ["on the right of"],
        "above": ["higher than"],
        "below": ["underneath", "beneath", "lower than"],
        "next": ["near", "close to", "by"],
    },
    "SAME_KEY": {"colour": ["shade"], "texture": ["texture"]},
}
# whole-word synonyms swapped into the query (style.restyle): colour names, everyday object
# names (singular, plural), head nouns and texture words
COLOUR_SYNONYMS = {
    "red": ["crimson", "scarlet"],
    "orange": ["tangerine", "amber"],
    "yellow": ["golden", "gold"],
    "green": ["emerald", "lime"],
    "blue": ["navy", "azure"],
    "purple": ["violet", "lilac"],
    "white": ["ivory", "snowy"],
    "black": ["ebony", "inky"],
}
CATEGORY_SYNONYMS = {
    "cup": [("mug", "mugs")],
    "bottle": [("flask", "flasks")],
    "glass": [("tumbler", "tumblers")],
    "knife": [("blade", "blades")],
    "saw": [("handsaw", "handsaws")],
    "pen": [("ballpoint", "ballpoints")],
    "chair": [("seat", "seats")],
    "stool": [("footstool", "footstools")],
    "lamp": [("desk lamp", "desk lamps")],
}
WORD_SYNONYMS = {
    "thing": ["item"],
    "things": ["items"],
    "object": ["item"],
    "objects": ["items"],
    "striped": ["stripy"],
    "dotted": ["spotted", "spotty", "polka dot"],
    "plain": ["solid", "patternless"],
}
# negative and other contractions (the tokenizer reads "isn't" as "isn t": v2 teaches that too)
CONTRACTIONS = {
    "that is not": ["that isn't", "that's not"],
    "which is not": ["which isn't"],
    "cannot": ["can't", "can not"],
    "i am": ["i'm"],
    "i would": ["i'd"],
}
