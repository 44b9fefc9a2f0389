"""The closed world of ReasonSeg-Synth: categories, functions, attributes."""

from __future__ import annotations

# category -> (function group, plural, base size in px on the 160x120 scene, may be mirrored)
CATEGORIES = {
    "apple": ("eat", "apples", 22, False),
    "banana": ("eat", "bananas", 28, True),
    "carrot": ("eat", "carrots", 28, False),
    "cup": ("drink", "cups", 24, True),
    "bottle": ("drink", "bottles", 30, False),
    "glass": ("drink", "glasses", 27, False),
    "knife": ("cut", "knives", 32, True),
    "saw": ("cut", "saws", 32, True),
    "pen": ("write", "pens", 29, False),
    "pencil": ("write", "pencils", 31, True),
    "chair": ("sit", "chairs", 32, True),
    "stool": ("sit", "stools", 29, False),
    "lamp": ("light", "lamps", 31, False),
    "candle": ("light", "candles", 26, False),
}
CATEGORY_NAMES = list(CATEGORIES)
GROUPS = ["eat", "drink", "cut", "write", "sit", "light"]
GROUP_MEMBERS = {g: [c for c, v in CATEGORIES.items() if v[0] == g] for g in GROUPS}

# RGB, chosen to stay apart under shading, texture and JPEG; backgrounds are desaturated.
COLOURS = {
    "red": (205, 35, 35),
    "orange": (240, 135, 20),
    "yellow": (235, 215, 35),
    "green": (35, 150, 55),
    "blue": (35, 85, 215),
    "purple": (135, 50, 175),
    "white": (240, 240, 240),
    "black": (30, 30, 30),
}
COLOUR_NAMES = list(COLOURS)
TEXTURES = ["plain", "striped", "dotted"]
SIZES = ["small", "medium", "large"]
SIZE_SCALE = {"small": 0.74, "medium": 1.0, "large": 1.25}

# (function group, colour) pairs never named together in train/val queries; test asks for them.
HELDOUT_FUNCTION_COLOUR = {
    ("drink", "red"),
    ("cut", "blue"),
    ("write", "green"),
    ("eat", "purple"),
    ("sit", "yellow"),
    ("light", "white"),
}
