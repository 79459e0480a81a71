"""Stress sets of two look-alike classes that real dumps are full of and the dev data lacks.

* :func:`template_listings`: documents made from one template (shop listings of refurbished
  phones and laptops, a furniture brand's ads, a used-car dealer's ads, a letting agency's flats,
  a recruiter's jobs). Siblings of one template share headings, disclaimers and shipping or
  returns boilerplate around another product name, other specs, other numbers, other prices:
  they are different documents (hard negatives). A listing re-posted with light edits (boilerplate
  changed or dropped, a bullet removed, a line reworded, the price written another way) is the
  same document (positives, clusters of 2-4).
* :func:`short_posts`: short social posts (one or two sentences, 10-40 words) cut from the real
  English articles of ``wmt-variants-dev-v3``: posts of different sentences or different outlets'
  documents on one event (the Navy Day parade, the Donbass ceasefire, ...) share names, places and
  hashtags but are different posts (negatives); a repost of one post (a comment or "RT @user:"
  prepended, a hashtag or link added or removed, a light edit, or the same sentences in another
  translation of the document) is the same post (positives).

Each builder returns ``[{"id", "text", "cluster"}]`` (``cluster`` is the gold group: articles of
one cluster are true duplicates, every other pair is a negative) and is deterministic for a seed.
Vocabularies are written here; nothing is downloaded. ``main`` runs ``dedup.find_duplicates``
with its defaults on each set and prints pair precision / recall / F1, the false pairs (the five
highest-scoring with their texts), and the scores of positives and negatives, among the verified
pairs and among all LSH candidates (a second run at threshold 0), over the set and per template
family or event: how far apart the two kinds are.

    python benchmarks/lookalikes.py          # prints a table per set, saves results/lookalikes.json
"""

from __future__ import annotations

import random
import re
import statistics
import string
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import DATA, load_wmt, save_json  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.metrics import score_clusters  # noqa: E402
from dedup.text.normalize import tokenize  # noqa: E402
from dedup.text.paragraphs import split_sentences  # noqa: E402

WMT_V3 = DATA / "wmt-variants-dev-v3"

# ---------------------------------------------------------------------------------------------
# Template listings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One line of a listing: its phrasings (``texts[0]`` as first posted, the others as a
    re-poster rewords it) and whether a re-post may leave it out (a bullet, a boilerplate line)."""

    key: str
    texts: tuple[str, ...]
    optional: bool = False


@dataclass(frozen=True)
class _Style:
    """How a listing is written out: price format, lines left out or reworded, whose footer."""

    money: int = 0
    drop: frozenset[str] = frozenset()
    reword: tuple[tuple[str, int], ...] = ()
    footer: int = 0


def _money(value: float, fmt: int, symbol: str = "$", code: str = "USD") -> str:
    """A price in one of five common spellings: $1,299.00 / $1,299 / 1299 USD / USD 1,299 / $1299
    (cents are kept when there are some)."""
    cents = round(value * 100) % 100 != 0
    grouped = f"{value:,.2f}" if cents else f"{value:,.0f}"
    plain = f"{value:.2f}" if cents else f"{value:.0f}"
    return [
        f"{symbol}{value:,.2f}",
        f"{symbol}{grouped}",
        f"{plain} {code}",
        f"{code} {grouped}",
        f"{symbol}{plain}",
    ][fmt]


MONEY_FORMATS = 5


def _bullets(key: str, items: Sequence[str], mark: str = "• ") -> list[_Line]:
    return [_Line(f"{key}{k}", (mark + item,), optional=True) for k, item in enumerate(items)]


def _footer(key: str, blocks: Sequence[Sequence[str]], style: _Style) -> list[_Line]:
    """The boilerplate lines of footer ``style.footer`` (0: the site's own; others: where a
    re-poster copied the listing to)."""
    return [
        _Line(f"{key}{style.footer}.{k}", (t,), optional=True) for k, t in enumerate(blocks[style.footer])
    ]


# --- refurbished phones (short) ---------------------------------------------------------------

PHONES = [  # brand, model, screen (inches), storage options (GB), colours, price of the base storage
    ("Apple", "iPhone 12", "6.1", (64, 128), ("Black", "White", "Blue", "Purple"), 309),
    ("Apple", "iPhone 13", "6.1", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Pink"), 419),
    ("Apple", "iPhone 13 mini", "5.4", (128, 256), ("Midnight", "Starlight", "Green"), 359),
    ("Apple", "iPhone 14", "6.1", (128, 256), ("Midnight", "Purple", "Blue", "Yellow"), 529),
    ("Apple", "iPhone 14 Pro", "6.1", (128, 256, 512), ("Space Black", "Deep Purple", "Gold"), 689),
    ("Apple", "iPhone SE (2022)", "4.7", (64, 128), ("Midnight", "Starlight", "(PRODUCT)RED"), 199),
    ("Samsung", "Galaxy S22", "6.1", (128, 256), ("Phantom Black", "Phantom White", "Green"), 329),
    ("Samsung", "Galaxy S23", "6.1", (128, 256), ("Phantom Black", "Cream", "Lavender"), 449),
    ("Samsung", "Galaxy S23 Ultra", "6.8", (256, 512), ("Phantom Black", "Green", "Cream"), 699),
    ("Samsung", "Galaxy A54 5G", "6.4", (128, 256), ("Awesome Graphite", "Awesome Violet"), 229),
    ("Samsung", "Galaxy Z Flip4", "6.7", (128, 256), ("Graphite", "Bora Purple", "Pink Gold"), 389),
    ("Google", "Pixel 6a", "6.1", (128,), ("Charcoal", "Chalk", "Sage"), 179),
    ("Google", "Pixel 7", "6.3", (128, 256), ("Obsidian", "Snow", "Lemongrass"), 299),
    ("Google", "Pixel 7 Pro", "6.7", (128, 256), ("Obsidian", "Snow", "Hazel"), 419),
    ("Google", "Pixel 8", "6.2", (128, 256), ("Obsidian", "Hazel", "Rose"), 469),
    ("OnePlus", "11 5G", "6.7", (128, 256), ("Titan Black", "Eternal Green"), 399),
    ("Motorola", "Edge 40", "6.55", (256,), ("Eclipse Black", "Nebula Green"), 279),
    ("Xiaomi", "13T", "6.67", (256,), ("Black", "Meadow Green", "Alpine Blue"), 339),
    ("Sony", "Xperia 10 V", "6.1", (128,), ("Black", "White", "Lavender", "Sage Green"), 249),
    ("Nothing", "Phone (2)", "6.7", (128, 256, 512), ("Dark Grey", "White"), 389),
]
PHONE_GRADES = [  # name, price factor, condition line
    ("Excellent", 1.0, "no visible scratches on the screen or body"),
    ("Very Good", 0.92, "light signs of use on the frame, screen flawless"),
    ("Good", 0.85, "visible scratches on the back and frame, screen in good condition"),
]
PHONE_FOOTERS = [
    (
        "Free tracked shipping and a 12-month warranty on every ReCell refurbished phone.",
        "30-day returns, no questions asked.",
    ),
    (
        "Sold by ReCell on the Marketplace. Delivery in 2-4 working days.",
        "Covered by Marketplace Buyer Protection.",
    ),
    ("Ships free from our warehouse. One year warranty, thirty day returns.",),
]


def _phone(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    brand, model, screen, storages, colours, base = rng.choice(PHONES)
    storage = rng.choice(storages)
    colour = rng.choice(colours)
    grade, factor, condition = rng.choice(PHONE_GRADES)
    price = round(base * (1 + 0.18 * storages.index(storage)) * factor) - 0.01 * rng.choice((0, 1))
    battery = rng.randint(84, 100)

    def lines(s: _Style) -> list[_Line]:
        p = _money(price, s.money)
        return [
            _Line("title", (f"{brand} {model} {storage}GB {colour} (Unlocked) – Refurbished, {grade}",)),
            _Line("price", (f"Price: {p}", f"Now only {p}", f"Our price: {p}")),
            _Line(
                "battery",
                (
                    f'Battery health {battery}%. {screen}" display, {condition}.',
                    f"Battery at {battery}% of original capacity. {screen}-inch screen, {condition}.",
                ),
            ),
            _Line(
                "box",
                (
                    "Comes with a charging cable and SIM tool; no original box.",
                    "Includes charging cable + SIM tool (original box not included).",
                ),
                optional=True,
            ),
            *_footer("foot", PHONE_FOOTERS, s),
        ]

    return f"{brand} {model}", lines


# --- furniture brand ads (short) --------------------------------------------------------------

FURNITURE_NAMES = [
    "KALLBO", "VIDSTRA", "LUNDHAGA", "ÖSTVIK", "BRANNE", "TORSBY", "SJÖLIA", "HEMSTA", "FÄRLÖV",
    "GRANNES", "MALMVIK", "ASKEBY", "LINDÅS", "RYSTAD", "SOLBERGA", "NÄSBY", "KROKEN", "VALLBY",
    "HAGALUND", "ÄLVDAL", "TRANÅS", "BJÖRKA", "STAVSJÖ", "EKHOLM",
]  # fmt: skip
FURNITURE = [  # product, typical size (w, d, h in cm), features, price range
    (
        "3-seat sofa",
        (214, 90, 82),
        (
            "Removable, machine-washable covers",
            "High-resilience foam seat cushions",
            "Solid beech legs",
            "Reversible back cushions",
        ),
        (549, 999),
    ),
    (
        "corner sofa",
        (255, 185, 84),
        (
            "Chaise longue on either side",
            "Storage under the chaise",
            "Removable, machine-washable covers",
            "Pocket-sprung seat cushions",
        ),
        (899, 1599),
    ),
    (
        "armchair",
        (77, 83, 94),
        (
            "Solid birch legs",
            "Removable, machine-washable cover",
            "Matching footstool available",
            "Pocket-sprung seat",
        ),
        (199, 449),
    ),
    (
        "bookcase",
        (100, 29, 195),
        (
            "Five adjustable shelves",
            "Solid pine frame, wall anchor included",
            "Glass doors on the lower half",
            "Can stand alone or in a row",
        ),
        (89, 249),
    ),
    (
        "extendable dining table",
        (160, 88, 75),
        (
            "Seats four to six",
            "Extension leaf stored under the top",
            "Solid oak legs",
            "Scratch-resistant lacquer",
        ),
        (299, 699),
    ),
    (
        "double bed frame",
        (170, 210, 98),
        (
            "For a 160 x 200 cm mattress",
            "Slatted base and two storage boxes included",
            "Upholstered headboard",
            "Adjustable bed sides",
        ),
        (249, 599),
    ),
    (
        "wardrobe",
        (125, 59, 218),
        (
            "Soft-closing hinges",
            "Clothes rail and four shelves inside",
            "Mirror door",
            "Adjustable feet for uneven floors",
        ),
        (299, 799),
    ),
    (
        "desk",
        (130, 65, 74),
        (
            "Cable management at the back",
            "Solid oak veneer top",
            "Two drawers on the right",
            "Height-adjustable legs",
        ),
        (129, 349),
    ),
    (
        "sideboard",
        (170, 46, 77),
        (
            "Three drawers and two cabinets",
            "Push-to-open doors",
            "Adjustable shelves behind the doors",
            "Solid walnut top",
        ),
        (249, 549),
    ),
    (
        "coffee table",
        (104, 66, 42),
        (
            "Shelf underneath for magazines",
            "Heat-resistant lacquer finish",
            "Tempered glass top",
            "Hidden storage drawer",
        ),
        (79, 229),
    ),
]
FURNITURE_COLOURS = [
    "Dark Grey", "Beige", "Oak veneer", "Moss Green", "White stain", "Anthracite",
    "Black-brown", "Natural Oak", "Light Blue", "Terracotta", "Walnut effect",
]  # fmt: skip
FURNITURE_FOOTERS = [
    (
        "Free delivery on orders over $500 and 365 days to change your mind.",
        "Nordhem – Scandinavian design for everyday living.",
    ),
    (
        "Spotted on Nordhem.com. Delivery from $49, click and collect is free.",
        "Nordhem – Scandinavian design for everyday living.",
    ),
    ("Nordhem: Scandinavian design for everyday living. Free delivery over $500.",),
]


def _furniture(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    name = rng.choice(FURNITURE_NAMES)
    product, size, pool, (low, high) = rng.choice(FURNITURE)
    w, d, h = (round(x * rng.uniform(0.88, 1.12)) for x in size)
    features = rng.sample(pool, 2)
    colour = rng.choice(FURNITURE_COLOURS)
    was = rng.randrange(low, high, 10) + 9
    now = was - 10 * round(was * rng.uniform(0.1, 0.3) / 10)

    def lines(s: _Style) -> list[_Line]:
        n, o = _money(now, s.money), _money(was, s.money)
        return [
            _Line(
                "intro",
                (
                    f"Meet {name}, our {product} in {colour}.",
                    f"Say hello to {name}: the {product}, in {colour}.",
                ),
            ),
            _Line("size", (f"W {w} x D {d} x H {h} cm.", f"Width {w} cm, depth {d} cm, height {h} cm.")),
            _Line("f0", (f"{features[0]}.",), optional=True),
            _Line("f1", (f"{features[1]}.",), optional=True),
            _Line("price", (f"Now {n} (was {o}).", f"{n}, down from {o}.", f"Sale: {n}, was {o}.")),
            *_footer("foot", FURNITURE_FOOTERS, s),
        ]

    return name, lines


# --- used-car dealer ads (short) --------------------------------------------------------------

CARS = [  # make, model, trims, engines, price range for a 2019
    ("Honda", "Civic", ("LX", "EX", "Sport"), ("2.0L 4-cylinder", "1.5L turbo"), (17000, 23000)),
    ("Honda", "CR-V", ("EX", "EX-L", "Touring"), ("1.5L turbo",), (22000, 29000)),
    ("Toyota", "Corolla", ("LE", "SE", "XSE"), ("1.8L 4-cylinder", "2.0L 4-cylinder"), (16000, 21000)),
    ("Toyota", "RAV4", ("LE", "XLE", "Limited"), ("2.5L 4-cylinder", "2.5L hybrid"), (24000, 32000)),
    ("Toyota", "Camry", ("LE", "SE", "XLE"), ("2.5L 4-cylinder", "3.5L V6"), (19000, 26000)),
    ("Ford", "F-150", ("XL", "XLT", "Lariat"), ("3.5L EcoBoost V6", "5.0L V8"), (27000, 41000)),
    ("Ford", "Escape", ("SE", "SEL", "Titanium"), ("1.5L EcoBoost", "2.0L EcoBoost"), (15000, 22000)),
    ("Chevrolet", "Silverado 1500", ("LT", "RST", "LTZ"), ("5.3L V8",), (28000, 40000)),
    ("Chevrolet", "Equinox", ("LS", "LT", "Premier"), ("1.5L turbo",), (15000, 21000)),
    ("Nissan", "Rogue", ("S", "SV", "SL"), ("2.5L 4-cylinder",), (16000, 22000)),
    ("Nissan", "Altima", ("S", "SV", "SR"), ("2.5L 4-cylinder",), (15000, 20000)),
    ("Hyundai", "Tucson", ("SE", "SEL", "Limited"), ("2.0L 4-cylinder", "2.4L 4-cylinder"), (16000, 23000)),
    ("Kia", "Sportage", ("LX", "EX", "SX Turbo"), ("2.4L 4-cylinder", "2.0L turbo"), (15000, 22000)),
    ("Subaru", "Outback", ("Premium", "Limited", "Touring"), ("2.5L boxer", "3.6L boxer"), (19000, 27000)),
    ("Mazda", "CX-5", ("Sport", "Touring", "Grand Touring"), ("2.5L 4-cylinder",), (18000, 25000)),
    ("Jeep", "Grand Cherokee", ("Laredo", "Limited", "Overland"), ("3.6L V6", "5.7L V8"), (22000, 33000)),
    ("Tesla", "Model 3", ("Standard Range Plus", "Long Range"), ("electric, dual motor",), (24000, 31000)),
    ("Volkswagen", "Jetta", ("S", "SE", "SEL"), ("1.4L turbo",), (14000, 19000)),
    ("BMW", "330i xDrive", ("Sedan",), ("2.0L turbo",), (23000, 30000)),
]
CAR_COLOURS = [
    "Lunar Silver", "Crystal Black", "Magnetic Gray", "Super White", "Oxford White", "Summit White",
    "Velocity Blue", "Soul Red", "Modern Steel", "Celestial Silver", "Midnight Black", "Ruby Red",
]  # fmt: skip
CAR_FEATURES = [
    "backup camera", "Apple CarPlay and Android Auto", "heated front seats", "blind-spot monitoring",
    "adaptive cruise control", "power sunroof", "leather seats", "tow package", "all-wheel drive",
    "lane-keep assist", "keyless entry", "new tires", "remote start", "navigation",
]  # fmt: skip
CAR_FOOTERS = [
    (
        "Financing available for all credit types. Trade-ins welcome.",
        "Price excludes tax, title, license and an $85 documentation fee.",
        "Call (916) 555-0142 or text us to book a test drive.",
    ),
    (
        "Posted by Riverside Auto Group on CarDeals. Message the dealer through CarDeals.",
        "Price excludes tax, title, license and an $85 documentation fee.",
    ),
    ("Riverside Auto Group, Sacramento. We finance everyone! Call (916) 555-0142.",),
]


def _car(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    make, model, trims, engines, (low, high) = rng.choice(CARS)
    year = rng.choice((2017, 2018, 2019, 2020, 2021))
    trim, engine, colour = rng.choice(trims), rng.choice(engines), rng.choice(CAR_COLOURS)
    miles = rng.randint(18_000, 95_000)
    price = round((rng.uniform(low, high) + 1500 * (year - 2019) - 0.05 * (miles - 50_000)) / 100) * 100 - 5
    owners = rng.choice(("one owner", "two owners", "one owner, clean Carfax"))
    gearbox = "automatic" if make != "Subaru" else "CVT automatic"
    features = rng.sample(CAR_FEATURES, 3)
    stock = f"{make[0]}{rng.randint(1000, 9999)}"

    def lines(s: _Style) -> list[_Line]:
        p = _money(price, s.money)
        return [
            _Line(
                "title",
                (
                    f"{year} {make} {model} {trim} – {miles:,} miles – {p}",
                    f"{year} {make} {model} {trim}, {p}",
                ),
            ),
            _Line(
                "specs",
                (
                    f"{engine[0].upper()}{engine[1:]}, {gearbox}, {colour}, {owners}.",
                    f"{colour} with a {engine} engine ({gearbox}), {owners}, {miles:,} mi.",
                ),
            ),
            _Line(
                "features",
                (f"{features[0][0].upper()}{features[0][1:]}, {', '.join(features[1:])}.",),
                optional=True,
            ),
            _Line(
                "stock",
                (
                    f"Stock #{stock}. At Riverside Auto Group, 4120 Fulton Ave, Sacramento, CA.",
                    f"Stock number {stock}, Riverside Auto Group in Sacramento.",
                ),
            ),
            *_footer("foot", CAR_FOOTERS, s),
        ]

    return f"{make} {model}", lines


# --- laptops (longer) -------------------------------------------------------------------------

LAPTOPS = [  # brand, model, size, CPUs, GPUs, panel, resolutions, battery hours, kg, ports, base price
    ("Dell", "XPS 13", "13.4", ("Intel Core i5-1340P", "Intel Core i7-1360P"), ("Intel Iris Xe graphics",),
     "IPS", ("1920 x 1200", "3456 x 2160 OLED"), 12, 1.17, "2x Thunderbolt 4, microSD reader", 999),
    ("Dell", "Inspiron 15", "15.6", ("Intel Core i5-1335U", "Intel Core i7-1355U"),
     ("Intel Iris Xe graphics",), "IPS", ("1920 x 1080",), 8, 1.65,
     "USB-C, 2x USB-A 3.2, HDMI 1.4, SD card reader", 599),
    ("HP", "Pavilion 15", "15.6", ("Intel Core i5-1335U", "AMD Ryzen 7 7730U"),
     ("Intel Iris Xe graphics", "AMD Radeon graphics"), "IPS", ("1920 x 1080",), 8, 1.75,
     "USB-C, 2x USB-A, HDMI 2.1, headphone jack", 649),
    ("HP", "Spectre x360 14", "13.5", ("Intel Core i7-1355U", "Intel Core Ultra 7 155H"),
     ("Intel Iris Xe graphics", "Intel Arc graphics"), "OLED touchscreen", ("3000 x 2000",), 13, 1.39,
     "2x Thunderbolt 4, USB-A, headphone jack", 1399),
    ("Lenovo", "ThinkPad X1 Carbon Gen 11", "14", ("Intel Core i5-1335U", "Intel Core i7-1365U"),
     ("Intel Iris Xe graphics",), "IPS", ("1920 x 1200", "2880 x 1800 OLED"), 15, 1.12,
     "2x Thunderbolt 4, 2x USB-A, HDMI 2.0", 1449),
    ("Lenovo", "IdeaPad Slim 5", "16", ("AMD Ryzen 5 7530U", "AMD Ryzen 7 7730U"), ("AMD Radeon graphics",),
     "IPS", ("1920 x 1200",), 10, 1.89, "USB-C, 2x USB-A, HDMI 1.4, SD card reader", 679),
    ("Lenovo", "Yoga 7i", "14", ("Intel Core i5-1335U", "Intel Core i7-1355U"), ("Intel Iris Xe graphics",),
     "touchscreen", ("1920 x 1200", "2880 x 1800 OLED"), 11, 1.49, "2x Thunderbolt 4, USB-A, HDMI", 849),
    ("ASUS", "Zenbook 14 OLED", "14", ("Intel Core i5-1340P", "Intel Core Ultra 7 155H"),
     ("Intel Iris Xe graphics", "Intel Arc graphics"), "OLED", ("2880 x 1800",), 13, 1.2,
     "2x Thunderbolt 4, USB-A, HDMI 2.1", 899),
    ("ASUS", "Vivobook 15", "15.6", ("Intel Core i3-1215U", "Intel Core i5-1235U"),
     ("Intel UHD graphics", "Intel Iris Xe graphics"), "IPS", ("1920 x 1080",), 6, 1.7,
     "USB-C, 3x USB-A, HDMI 1.4", 449),
    ("ASUS", "ROG Zephyrus G14", "14", ("AMD Ryzen 7 7735HS", "AMD Ryzen 9 7940HS"),
     ("NVIDIA GeForce RTX 4060 8GB", "NVIDIA GeForce RTX 4070 8GB"), "IPS 165Hz", ("2560 x 1600",), 10, 1.72,
     "USB-C with DisplayPort, 2x USB-A, HDMI 2.1", 1499),
    ("Acer", "Swift Go 14", "14", ("Intel Core i5-1335U", "Intel Core i7-13700H"),
     ("Intel Iris Xe graphics",), "OLED", ("2880 x 1800",), 9, 1.25,
     "2x Thunderbolt 4, 2x USB-A, HDMI 2.1, microSD reader", 749),
    ("Acer", "Nitro 5", "15.6", ("Intel Core i5-12500H", "AMD Ryzen 7 6800H"),
     ("NVIDIA GeForce RTX 3050 4GB", "NVIDIA GeForce RTX 4050 6GB"), "IPS 144Hz", ("1920 x 1080",), 6, 2.5,
     "USB-C, 3x USB-A, HDMI 2.1, Ethernet", 799),
    ("MSI", "Modern 14", "14", ("Intel Core i5-1235U", "AMD Ryzen 5 7530U"),
     ("Intel Iris Xe graphics", "AMD Radeon graphics"), "IPS", ("1920 x 1080",), 10, 1.4,
     "USB-C, 2x USB-A, HDMI, microSD reader", 529),
    ("Microsoft", "Surface Laptop 5", "13.5", ("Intel Core i5-1235U", "Intel Core i7-1255U"),
     ("Intel Iris Xe graphics",), "PixelSense touchscreen", ("2256 x 1504",), 17, 1.27,
     "Thunderbolt 4, USB-A, Surface Connect", 999),
    ("Apple", "MacBook Air 13", "13.6", ("Apple M2 8-core CPU", "Apple M3 8-core CPU"),
     ("Apple 8-core GPU", "Apple 10-core GPU"), "Liquid Retina", ("2560 x 1664",), 18, 1.24,
     "2x Thunderbolt / USB 4, MagSafe 3, headphone jack", 1099),
    ("LG", "gram 16", "16", ("Intel Core i7-1360P",), ("Intel Iris Xe graphics",), "IPS",
     ("2560 x 1600",), 20, 1.2, "2x Thunderbolt 4, 2x USB-A, HDMI, microSD reader", 1199),
    ("Samsung", "Galaxy Book3 Pro", "14", ("Intel Core i5-1340P", "Intel Core i7-1360P"),
     ("Intel Iris Xe graphics",), "AMOLED", ("2880 x 1800",), 13, 1.17,
     "2x Thunderbolt 4, USB-A, HDMI, microSD reader", 1099),
    ("Razer", "Blade 14", "14", ("AMD Ryzen 9 7940HS",), ("NVIDIA GeForce RTX 4060 8GB",
     "NVIDIA GeForce RTX 4070 8GB"), "IPS 240Hz", ("2560 x 1600",), 9, 1.84,
     "2x USB-C, 2x USB-A, HDMI 2.1", 2199),
]  # fmt: skip
LAPTOP_FOOTERS = [
    (
        "In stock – ships within 1 business day.",
        "Free standard shipping on orders over $49. Express delivery is available at checkout.",
        "Returns: unused items in their original packaging can be returned within 30 days for a full refund.",
        "Warranty: 1-year manufacturer warranty included. Extend it to 3 years with TechNest Care+.",
        "Prices and availability are subject to change without notice.",
    ),
    (
        "Sold and shipped by TechNest through the Marketplace.",
        "Returns accepted within 30 days. Marketplace A-to-z guarantee applies.",
    ),
    (
        "In stock at TechNest. Free shipping over $49, 30-day returns, 1-year warranty.",
        "Prices and availability are subject to change without notice.",
    ),
]


def _laptop(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    brand, model, size, cpus, gpus, panel, resolutions, hours, kg, ports, base = rng.choice(LAPTOPS)
    cpu, gpu, res = rng.choice(cpus), rng.choice(gpus), rng.choice(resolutions)
    ram = rng.choice((8, 16, 16, 32))
    ssd = rng.choice(("256GB", "512GB", "512GB", "1TB"))
    os_name = "macOS" if brand == "Apple" else rng.choice(("Windows 11 Home", "Windows 11 Pro"))
    extra = (cpus.index(cpu) + gpus.index(gpu)) * 200 + {8: 0, 16: 100, 32: 300}[ram]
    price = base + extra + {"256GB": 0, "512GB": 80, "1TB": 200}[ssd] - 0.01 * rng.choice((0, 1))
    sku = f"TN-{rng.randint(100000, 999999)}"
    battery = max(4, hours + rng.choice((-1, 0, 0, 1)))

    def lines(s: _Style) -> list[_Line]:
        p = _money(price, s.money)
        short_cpu = cpu.replace("Intel Core ", "").replace("AMD Ryzen ", "Ryzen ").replace("Apple ", "")
        return [
            _Line(
                "title",
                (
                    f'{brand} {model} {size}" Laptop – {short_cpu}, {ram}GB RAM, {ssd} SSD, {os_name}',
                    f"{brand} {model} ({size}-inch, {short_cpu}, {ram} GB / {ssd})",
                ),
            ),
            _Line("sku", (f"SKU: {sku}",)),
            _Line("price", (f"Price: {p}", f"Our price {p}", f"Sale price: {p}")),
            _Line("head", ("Key features:", "Highlights:")),
            *_bullets(
                "b",
                (
                    f"{size}-inch {panel} display, {res}",
                    cpu if "CPU" in cpu else f"{cpu} processor",
                    f"{ram}GB memory, {ssd} NVMe SSD storage",
                    gpu,
                    f"Up to {battery} hours of battery life, {kg:.2f} kg",
                    ports,
                ),
            ),
            *_footer("foot", LAPTOP_FOOTERS, s),
        ]

    return f"{brand} {model}", lines


# --- flats to rent (longer) -------------------------------------------------------------------

LONDON_AREAS = [  # area, postcode district, streets, station, lines
    ("Hackney", "E8", ("Amhurst Road", "Navarino Road", "Mapledene Road"), "Hackney Central", "Overground"),
    ("Islington", "N1", ("Cloudesley Road", "Liverpool Road", "Barnsbury Street"), "Angel", "Northern line"),
    ("Camden", "NW1", ("Albert Street", "Arlington Road", "Pratt Street"), "Camden Town", "Northern line"),
    (
        "Clapham",
        "SW4",
        ("Elms Road", "Narbonne Avenue", "Stonhouse Street"),
        "Clapham Common",
        "Northern line",
    ),
    (
        "Brixton",
        "SW2",
        ("Brixton Water Lane", "Josephine Avenue", "Arodene Road"),
        "Brixton",
        "Victoria line",
    ),
    (
        "Peckham",
        "SE15",
        ("Bellenden Road", "Choumert Road", "Lyndhurst Way"),
        "Peckham Rye",
        "Overground and Thameslink",
    ),
    ("Shoreditch", "E2", ("Columbia Road", "Ravenscroft Street", "Hackney Road"), "Hoxton", "Overground"),
    (
        "Stratford",
        "E15",
        ("Leyton Road", "Romford Road", "Maryland Park"),
        "Stratford",
        "Central line, Jubilee line and the Elizabeth line",
    ),
    (
        "Walthamstow",
        "E17",
        ("Hoe Street", "Orford Road", "Grove Road"),
        "Walthamstow Central",
        "Victoria line",
    ),
    ("Greenwich", "SE10", ("Royal Hill", "Crooms Hill", "Ashburnham Grove"), "Cutty Sark", "DLR"),
    (
        "Bermondsey",
        "SE16",
        ("Lynton Road", "Abbey Street", "Southwark Park Road"),
        "Bermondsey",
        "Jubilee line",
    ),
    (
        "Kentish Town",
        "NW5",
        ("Leighton Road", "Bartholomew Road", "Lady Margaret Road"),
        "Kentish Town",
        "Northern line and Thameslink",
    ),
    (
        "Stoke Newington",
        "N16",
        ("Church Street", "Albion Road", "Nevill Road"),
        "Stoke Newington",
        "Overground",
    ),
    (
        "Battersea",
        "SW11",
        ("Prince of Wales Drive", "Lavender Hill", "Northcote Road"),
        "Battersea Power Station",
        "Northern line",
    ),
    (
        "Wimbledon",
        "SW19",
        ("Worple Road", "Kingston Road", "Hartfield Road"),
        "Wimbledon",
        "District line and South Western Railway",
    ),
    (
        "Ealing",
        "W5",
        ("Mattock Lane", "Madeley Road", "Castlebar Road"),
        "Ealing Broadway",
        "Central line, District line and the Elizabeth line",
    ),
]
FLAT_FEATURES = [
    "Open-plan kitchen with integrated appliances", "Private balcony", "Wooden floors throughout",
    "Gas central heating", "Double glazing", "Communal garden", "Secure bike storage",
    "Concierge", "Washer-dryer and dishwasher", "Newly refurbished bathroom", "Pets considered",
    "Residents' gym", "Allocated parking space", "Private garden", "Walk-in wardrobe", "Roof terrace",
]  # fmt: skip
RENTAL_FOOTERS = [
    (
        "Harbour & Finch Lettings is a member of ARLA Propertymark and the Property Redress Scheme, "
        "and holds client money protection.",
        "Permitted payments only: no tenant fees apart from a holding deposit of one week's rent.",
        "All measurements are approximate. Photos are for illustration only and these details do not "
        "form part of any contract.",
        "To arrange a viewing, call 020 7946 0321 or email lettings@harbourfinch.co.uk.",
    ),
    (
        "Marketed by Harbour & Finch Lettings on HomeFinder. Contact the agent through HomeFinder.",
        "All measurements are approximate. Photos are for illustration only and these details do not "
        "form part of any contract.",
    ),
    (
        "Harbour & Finch Lettings, ARLA Propertymark member. No tenant fees.",
        "Viewings: 020 7946 0321.",
    ),
]


def _rental(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    area, postcode, streets, station, lines_ = rng.choice(LONDON_AREAS)
    street = rng.choice(streets)
    beds = rng.choice((0, 1, 1, 2, 2, 3))
    kind = rng.choice(("flat", "apartment", "maisonette") if beds < 3 else ("maisonette", "terraced house"))
    what = f"studio {kind}" if beds == 0 else f"{beds}-bedroom {kind}"
    baths = 1 if beds < 2 else rng.choice((1, 2))
    sqft = {0: 380, 1: 520, 2: 720, 3: 960}[beds] + rng.randrange(-60, 160, 5)
    rent = round((1500 + 650 * beds + rng.randint(-200, 500)) / 25) * 25
    floor = rng.choice(("ground floor", "first floor", "second floor with lift", "top floor (no lift)"))
    furnished = rng.choice(("Furnished", "Unfurnished", "Part furnished"))
    features = rng.sample(FLAT_FEATURES, 4)
    band, epc = rng.choice("BCDE"), rng.choice("BCD")
    available = f"{rng.randint(1, 28)} {rng.choice(('March', 'April', 'May', 'June'))}"
    minutes = rng.randint(2, 12)
    ref = f"HF{rng.randint(10000, 99999)}"

    def lines(s: _Style) -> list[_Line]:
        pcm = _money(rent, s.money, "£", "GBP")
        week = _money(round(rent * 12 / 52), s.money if s.money != 0 else 1, "£", "GBP")
        deposit = _money(round(rent * 12 / 52 * 5), s.money if s.money != 0 else 1, "£", "GBP")
        bedrooms = "studio" if beds == 0 else f"{beds} bedroom{'s' if beds > 1 else ''}"
        return [
            _Line(
                "title",
                (
                    f"{what.capitalize()} to rent, {street}, {area}, London {postcode}",
                    f"{area} {postcode}: {what} on {street} to let",
                ),
            ),
            _Line(
                "rent",
                (
                    f"{pcm} pcm ({week} pw) | Deposit {deposit} | Available from {available}",
                    f"Rent {pcm} per month, deposit {deposit}, available {available}.",
                ),
            ),
            _Line(
                "size",
                (
                    f"{bedrooms.capitalize()}, {baths} bathroom{'s' if baths > 1 else ''}, {sqft} sq ft, "
                    f"{floor}. {furnished}.",
                ),
            ),
            _Line("head", ("Features:", "Key features:")),
            *_bullets("b", (*features, f"Council tax band {band}, EPC rating {epc}")),
            _Line(
                "station",
                (
                    f"{station} station ({lines_}) is {minutes} minutes' walk away.",
                    f"{minutes} minutes on foot to {station} ({lines_}).",
                ),
                optional=True,
            ),
            _Line("ref", (f"Reference: {ref}",)),
            *_footer("foot", RENTAL_FOOTERS, s),
        ]

    return f"{street}, {area}", lines


# --- job listings (long) ----------------------------------------------------------------------

JOBS = {  # title: (salary range, client, duties, requirements)
    "Software Engineer (Python)": (
        (45_000, 70_000),
        "a fast-growing fintech company",
        (
            "Design, build and maintain back-end services in Python and PostgreSQL",
            "Review code and help shape the team's engineering practices",
            "Work with product managers to turn requirements into releases",
            "Monitor and improve the performance of services in production",
        ),
        ("Strong Python and SQL skills", "Experience with cloud platforms such as AWS or GCP"),
    ),
    "Senior Data Analyst": (
        (50_000, 65_000),
        "a national retail group",
        (
            "Own the weekly trading dashboards and explain what moves the numbers",
            "Build and maintain data models in SQL and dbt",
            "Present findings and recommendations to senior stakeholders",
            "Mentor two junior analysts",
        ),
        (
            "Advanced SQL and experience with Power BI or Tableau",
            "Clear communication with non-technical teams",
        ),
    ),
    "Payroll Administrator": (
        (26_000, 31_000),
        "a busy accountancy practice",
        (
            "Process weekly and monthly payrolls for a portfolio of clients",
            "Handle starters, leavers, statutory payments and pension submissions",
            "Answer payroll queries from clients and their employees",
            "Prepare year-end reports and P60s",
        ),
        ("Experience with Sage or BrightPay", "Good knowledge of PAYE and auto-enrolment"),
    ),
    "Registered Nurse": (
        (35_000, 42_000),
        "a well-regarded private hospital",
        (
            "Deliver safe, high-quality care to patients on a surgical ward",
            "Assess, plan and evaluate care in line with hospital policies",
            "Administer medication and keep accurate patient records",
            "Support and supervise healthcare assistants and student nurses",
        ),
        ("Active NMC registration", "Acute or surgical ward experience"),
    ),
    "Warehouse Team Leader": (
        (29_000, 34_000),
        "a leading logistics company",
        (
            "Lead a team of 15 operatives across picking, packing and despatch",
            "Plan shift rotas and hit daily service-level targets",
            "Carry out health and safety checks and toolbox talks",
            "Train new starters on warehouse systems",
        ),
        ("Previous supervisory experience in a warehouse", "Counterbalance or reach truck licence"),
    ),
    "Marketing Executive": (
        (28_000, 35_000),
        "an independent consumer brand",
        (
            "Plan and run email, social and paid campaigns",
            "Write copy for the website, newsletters and product launches",
            "Report on campaign performance and suggest improvements",
            "Coordinate with designers, agencies and the sales team",
        ),
        ("Experience with Google Analytics and Meta Ads", "Excellent writing skills"),
    ),
    "Customer Service Advisor": (
        (23_000, 26_000),
        "a well-known energy supplier",
        (
            "Handle inbound calls, emails and live chats from customers",
            "Resolve billing queries and set up payment plans",
            "Log every contact accurately in the CRM",
            "Escalate complaints to the right team",
        ),
        ("A friendly, patient telephone manner", "Good IT skills"),
    ),
    "Civil Engineer": (
        (40_000, 55_000),
        "a multidisciplinary engineering consultancy",
        (
            "Design drainage and highway schemes for residential developments",
            "Prepare drawings, calculations and reports in Civil 3D",
            "Liaise with local authorities and utility companies",
            "Attend site meetings and inspections",
        ),
        ("A degree in civil engineering", "Working towards or holding chartered status"),
    ),
    "Accounts Payable Clerk": (
        (24_000, 28_000),
        "a national housebuilder",
        (
            "Process supplier invoices and match them to purchase orders",
            "Prepare weekly payment runs",
            "Reconcile supplier statements and resolve discrepancies",
            "Deal with supplier queries by phone and email",
        ),
        ("Previous purchase ledger experience", "Confident with Excel"),
    ),
    "HR Business Partner": (
        (45_000, 55_000),
        "a growing manufacturing business",
        (
            "Advise managers on employee relations, performance and absence",
            "Lead restructures and TUPE transfers",
            "Drive the annual engagement survey and action plans",
            "Coach managers through difficult conversations",
        ),
        ("CIPD Level 7 or equivalent experience", "Sound knowledge of UK employment law"),
    ),
    "Electrician": (
        (36_000, 44_000),
        "a facilities management contractor",
        (
            "Carry out planned and reactive electrical maintenance across client sites",
            "Complete fault finding, testing and inspection",
            "Produce electrical installation certificates",
            "Respond to call-outs on a one-in-six rota",
        ),
        ("18th Edition and an NVQ Level 3 in electrical installation", "A full UK driving licence"),
    ),
    "Project Manager": (
        (55_000, 70_000),
        "a major infrastructure contractor",
        (
            "Manage projects from tender through to handover",
            "Control budgets, programmes and subcontractors",
            "Report progress and risks to the client and the board",
            "Lead weekly site progress meetings",
        ),
        ("PRINCE2 or APM qualification", "Experience delivering projects over £5m"),
    ),
    "Sous Chef": (
        (30_000, 35_000),
        "an award-winning city-centre restaurant",
        (
            "Run the kitchen in the head chef's absence",
            "Prepare and cook dishes to a consistent high standard",
            "Order stock and control food costs",
            "Train and motivate commis and chefs de partie",
        ),
        ("Experience as a sous chef or strong junior sous chef", "Level 2 Food Hygiene certificate"),
    ),
    "Teaching Assistant": (
        (19_000, 22_000),
        "a friendly primary school",
        (
            "Support pupils with special educational needs in class",
            "Run small-group phonics and maths interventions",
            "Help the class teacher prepare resources",
            "Supervise pupils at break and lunch times",
        ),
        ("Experience working with children aged 4 to 11", "An enhanced DBS check or willingness to get one"),
    ),
}
JOB_CITIES = [
    "Manchester", "Leeds", "Birmingham", "Bristol", "Glasgow", "Edinburgh", "Liverpool", "Sheffield",
    "Nottingham", "Cardiff", "Newcastle", "Reading", "Leicester", "Southampton",
]  # fmt: skip
JOB_BENEFITS = [
    "25 days' holiday plus bank holidays", "a 6% matched pension", "private medical insurance",
    "a cycle-to-work scheme", "an annual bonus of up to 10%", "free on-site parking",
    "flexible start and finish times", "life assurance at four times salary",
]  # fmt: skip
JOB_FOOTERS = [
    (
        "About Brightpath: since 2009 we have placed professionals with more than 2,000 employers "
        "across the UK.",
        "Brightpath Recruitment is acting as an employment agency in relation to this vacancy.",
        "We are an equal opportunities employer and welcome applications from all suitably qualified "
        "people regardless of age, disability, gender, race, religion or sexual orientation.",
        "Apply with your CV today; only shortlisted candidates will be contacted.",
    ),
    (
        "Posted by Brightpath Recruitment on JobBoard. Click Apply to send your CV to the recruiter.",
        "JobBoard never asks candidates for payment.",
    ),
    ("Brightpath Recruitment is acting as an employment agency for this vacancy. Apply with your CV today.",),
]


def _job(rng: random.Random) -> tuple[str, Callable[[_Style], list[_Line]]]:
    title = rng.choice(list(JOBS))
    (low, high), client, duties, needs = JOBS[title]
    city = rng.choice(JOB_CITIES)
    mode = rng.choice(("on-site", "hybrid", "hybrid, two days in the office"))
    contract = rng.choice(("Permanent, full-time", "Permanent, full-time", "12-month fixed-term contract"))
    lo = rng.randrange(low, max(low + 1, high - 2000), 500)
    hi = lo + rng.choice((2000, 3000, 5000))
    years = rng.choice((1, 2, 3, 5))
    duties = rng.sample(duties, 3)
    benefits = rng.sample(JOB_BENEFITS, 3)
    ref = f"BP-{rng.randint(10000, 99999)}"

    def lines(s: _Style) -> list[_Line]:
        pay = f"{_money(lo, s.money, '£', 'GBP')} – {_money(hi, s.money, '£', 'GBP')} per year"
        return [
            _Line("title", (f"{title} – {city} ({mode})",)),
            _Line("terms", (f"{contract} · {pay}", f"{contract}, paying {pay}.")),
            _Line(
                "intro",
                (
                    f"Brightpath Recruitment is hiring a {title} on behalf of {client} in {city}.",
                    f"We are recruiting a {title} for {client} based in {city}.",
                ),
            ),
            _Line("h1", ("What you will do:", "The role:")),
            *_bullets("d", duties),
            _Line("h2", ("What we are looking for:", "About you:")),
            *_bullets("n", (f"At least {years} years' experience in a similar role", *needs)),
            _Line(
                "benefits",
                (f"Benefits: {', '.join(benefits)}.", f"In return you get {', '.join(benefits)}."),
                optional=True,
            ),
            _Line("ref", (f"Ref: {ref}",)),
            *_footer("foot", JOB_FOOTERS, s),
        ]

    return title, lines


@dataclass(frozen=True)
class Template:
    """One family of template documents: how many siblings, their word range, the builder."""

    name: str
    siblings: int
    words: tuple[int, int]
    make: Callable[[random.Random], tuple[str, Callable[[_Style], list[_Line]]]] = field(repr=False)
    footers: int = 3  # footer 0 is the site's own, the others where re-posters copied it to
    money: int = 0  # the site's own price format


TEMPLATES = (
    Template("phone", 20, (30, 80), _phone, money=0),
    Template("furniture", 24, (30, 80), _furniture, money=1),
    Template("car", 19, (30, 80), _car, money=1),
    Template("laptop", 18, (80, 220), _laptop, money=0),
    Template("rental", 16, (80, 220), _rental, money=1),
    Template("job", 14, (80, 220), _job, money=1),
)
"""The template families of :func:`template_listings`; the short ones (30-80 words) first."""

EDITS = ("footer", "drop", "reword", "money")  # applied in this order


def _render(lines: list[_Line], style: _Style) -> str:
    reword = dict(style.reword)
    out = [ln.texts[reword.get(ln.key, 0)] for ln in lines if ln.key not in style.drop]
    return "\n".join(out)


def _repost(
    rng: random.Random, lines: Callable[[_Style], list[_Line]], base: _Style, footers: int
) -> tuple[_Style, str]:
    """A light edit of a listing's style: 1-3 of another price format, a bullet or boilerplate line
    left out, a line reworded, the footer of the site it was copied to. Returns the style and the
    edits that changed the text, joined by "+"."""
    style, done = base, []
    for kind in sorted(rng.sample(EDITS, rng.randint(1, 3)), key=EDITS.index):
        shown = lines(style)
        before = _render(shown, style)
        if kind == "money":
            options = [m for m in range(MONEY_FORMATS) if m != style.money]
            rng.shuffle(options)
            changed = (replace(style, money=m) for m in options)
            new = next((s for s in changed if _render(lines(s), s) != before), style)
        elif kind == "drop":
            keys = [ln.key for ln in shown if ln.optional and ln.key not in style.drop]
            new = replace(style, drop=style.drop | {rng.choice(keys)}) if keys else style
        elif kind == "reword":
            keys = [ln for ln in shown if len(ln.texts) > 1 and ln.key not in dict(style.reword)]
            new = style
            if keys:
                ln = rng.choice(keys)
                new = replace(style, reword=(*style.reword, (ln.key, rng.randrange(1, len(ln.texts)))))
        else:
            new = replace(style, footer=rng.choice([f for f in range(footers) if f != style.footer]))
        if _render(lines(new), new) != before:
            style = new
            done.append(kind)
    return style, "+".join(done)


def template_listings(seed: int = 0) -> list[dict[str, str]]:
    """Template siblings (hard negatives) and light-edit re-posts (positives) of six families.

    Why: the dev sets hold translations and same-story articles, no template documents; a
    detector that takes shared boilerplate for shared content joins every sibling of a template.
    Each family (:data:`TEMPLATES`) has ``siblings`` listings of distinct products made from
    one template; about 40% of them are re-posted 1-3 times with light edits (clusters of 2-4).
    Ids are ``listing.<family>.<nn>`` for a listing as first posted and ``<id>.r<k>-<edits>``
    for its re-posts; ``cluster`` is the listing's id. Deterministic for ``seed``."""
    rng = random.Random(f"template_listings:{seed}")
    out: list[dict[str, str]] = []
    for tpl in TEMPLATES:
        seen: set[str] = set()
        k = 0
        while k < tpl.siblings:
            key, lines = tpl.make(rng)
            base = _Style(money=tpl.money)
            text = _render(lines(base), base)
            if key in seen or not _fits(text, tpl.words):
                continue
            seen.add(key)
            cluster = f"listing.{tpl.name}.{k:02d}"
            out.append({"id": cluster, "text": text, "cluster": cluster})
            texts = {text}
            copies = rng.choice((1, 1, 2, 3)) if rng.random() < 0.4 else 0
            tries = 0
            while len(texts) <= copies and tries < 50:
                tries += 1
                style, kinds = _repost(rng, lines, base, tpl.footers)
                copy = _render(lines(style), style)
                if copy in texts or not _fits(copy, tpl.words):
                    continue
                texts.add(copy)
                out.append({"id": f"{cluster}.r{len(texts) - 1}-{kinds}", "text": copy, "cluster": cluster})
            k += 1
    rng.shuffle(out)
    return out


def _fits(text: str, words: tuple[int, int]) -> bool:
    return words[0] <= len(text.split()) <= words[1]


# ---------------------------------------------------------------------------------------------
# Short posts
# ---------------------------------------------------------------------------------------------

EVENTS = {  # story groups of wmt-variants-dev-v3 (its README, "Same-story hard negatives")
    "navy-day": (
        ("aif.321259", "aif.321267", "bbc-russian.43692", "interfax.39240", "izvestiya.520991",
         "kp.235507", "kp.235570", "lenta.ru.344661", "vesti.ru.343831", "xinhua-zh.21311"),
        ("#NavyDay", "#StPetersburg", "#Kronstadt", "#Putin", "#RussianNavy"),
    ),
    "donbass-ceasefire": (
        ("interfax.39239", "kp.235557", "vedomosti.76994"), ("#Donbass", "#ceasefire", "#Ukraine"),
    ),
    "khabarovsk": (("dp.ru.34785", "kp.235560", "interfax.39252"), ("#Khabarovsk", "#Furgal", "#Degtyarev")),
    "covid-figures": (
        ("lenta.ru.344744", "vedomosti.76993", "kp.235633", "vesti.ru.343764"), ("#COVID19", "#coronavirus"),
    ),
    "weather": (
        ("argumenti.ru.186903", "gazeta.ru.151338", "kp.235534", "mk.224329"), ("#Moscow", "#weather"),
    ),
    "ovechkin": (("sovsport.ru.252342", "vesti.ru.343817"), ("#Ovechkin", "#ALLCAPS", "#NHL")),
    "rcrs": (("izvestiya.521046", "sport-express.ru.327661"), ("#RCRS", "#IgoraDrive", "#motorsport")),
    "lokomotiv": (("rt-russian.73350", "sport-express.ru.327609"), ("#Lokomotiv", "#RPL", "#transfers")),
    "fires": (("mk.224327", "rt-russian.73306"), ("#fire", "#EMERCOM")),
}  # fmt: skip
GENERIC_TAGS = ("#Russia", "#news", "#breaking", "#world")
COMMENTS = (
    "Wow.", "Worth a read:", "This is big.", "Interesting.", "Can anyone confirm?", "Not surprised.",
    "Huge if true.", "Finally!", "Meanwhile:", "Read this.", "Important:", "Hmm.", "Good thread.",
    "Unbelievable.", "Well, well.", "So it begins.",
)  # fmt: skip
HANDLE_PARTS = (
    "news", "daily", "watch", "baltic", "moscow", "neva", "olga", "dmitry", "sasha", "anna", "ivan",
    "hockey", "fan", "report", "live", "wire", "eye", "view", "north", "times", "pulse", "desk",
)  # fmt: skip
POST_WORDS = (10, 40)
_BASE_WORDS = (10, 30)  # room for a comment, a handle, hashtags or a link on top


_ABBREVIATION = re.compile(r"\b(?:St|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Prof|No|Jr|Sr|vs|etc|[A-Z])\.$")


def _segments(article: dict) -> dict[str, str]:
    """Segment id -> its sentence in this article, for paragraphs whose sentences (as dedup splits
    them) line up one to one with the WMT segments they hold: as many sentences as segments, none
    cut after an abbreviation ("St. Petersburg"), each starting like a sentence."""
    out: dict[str, str] = {}
    for para, segs in zip(article["text"].split("\n\n"), article["seg_ids"], strict=True):
        sents = split_sentences(para)
        if len(sents) != len(segs) or any(_ABBREVIATION.search(x) for x in sents[:-1]):
            continue
        if all(x[0].isupper() or x[0].isdigit() or x[0] in '"“«(' for x in sents):
            out.update(zip(segs, sents, strict=True))
    return out


def _balanced(text: str) -> bool:
    return (
        text.count("(") == text.count(")") and text.count("“") == text.count("”") and text.count('"') % 2 == 0
    )


def _content(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) > 3 and not t.startswith(("http", "co"))}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _link(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choices(string.ascii_letters + string.digits, k=10))


def _handle(rng: random.Random) -> str:
    return (
        "@" + "_".join(rng.sample(HANDLE_PARTS, 2)) + (str(rng.randint(1, 99)) if rng.random() < 0.5 else "")
    )


def _light_edit(rng: random.Random, text: str) -> str:
    """A typo, a dropped word, a trailing stop removed, or "and" written "&"."""
    words = text.split()
    how = rng.choice(("typo", "drop", "stop", "amp"))
    if how == "amp" and " and " in text:
        return text.replace(" and ", " & ", 1)
    if how == "stop" and text.endswith("."):
        return text[:-1]
    if how == "drop" and len(words) > 12:
        k = rng.randrange(1, len(words) - 1)
        return " ".join(words[:k] + words[k + 1 :])
    long = [k for k, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long:
        return text + "!"
    k = rng.choice(long)
    w = words[k]
    j = rng.randrange(1, len(w) - 2)
    words[k] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


_TAG = re.compile(r"\s*(#\w+|https://t\.co/\w+)")


def short_posts(seed: int = 0, data: Path = WMT_V3) -> list[dict[str, str]]:
    """Posts of one or two real sentences about the same events (negatives) and their reposts
    (positives), 10-40 words each.

    From each English document of ``wmt-variants-dev-v3`` (read in place), 1 or 2 posts of
    different sentences, or 3-4 for the documents of one event of :data:`EVENTS` (with the event's
    hashtags; the sentences that share most words with another outlet's on the event first), each
    taken from one of its 10 English members (MT system or human reference), as different users
    would post them; a post whose words are mostly those of a post already made
    (Jaccard of words > 3 letters >= 0.5: the same quote in two outlets) is left out. About half
    of the posts are reposted 1-3 times: a comment or ``RT @user:`` prepended, a hashtag or link
    added or removed, a light edit, or the same sentences in another member's translation (the
    same text, translated: a duplicate). Ids are ``post.<event>.<doc>.<n>`` and
    ``<id>.r<k>-<edits>``; ``cluster`` is the post's id. Deterministic for ``seed``."""
    rng = random.Random(f"short_posts:{seed}")
    by_doc: dict[str, list[dict]] = {}
    for a in load_wmt("en", data):
        by_doc.setdefault(a["cluster"].removeprefix("wmt21.ru-en."), []).append(a)
    event_of = {doc: (name, tags) for name, (docs, tags) in EVENTS.items() for doc in docs}
    overlap = _overlaps(by_doc)
    out: list[dict[str, str]] = []
    made: list[set[str]] = []
    for doc in sorted(by_doc):
        members = sorted(by_doc[doc], key=lambda a: a["system"])
        segs = {a["system"]: _segments(a) for a in members}
        event, tags = event_of.get(doc, ("other", GENERIC_TAGS))
        posts = rng.choice((3, 4)) if event != "other" else rng.choice((1, 1, 2))
        used: set[str] = set()
        order = sorted(segs[members[0]["system"]], key=int)
        rng.shuffle(order)
        if event != "other":  # the sentences closest to another outlet's first: the hard negatives
            order.sort(key=lambda i: -(overlap.get((doc, i), 0.0) + 0.2 * rng.random()))
        n = 0
        for first in order:
            if n >= posts:
                break
            system = rng.choice([s for s in segs if first in segs[s]] or [members[0]["system"]])
            ids = [first] + ([str(int(first) + 1)] if rng.random() < 0.5 else [])
            if any(i in used or i not in segs[system] for i in ids):
                ids = [first]
            if ids[0] in used or ids[0] not in segs[system]:
                continue
            text = " ".join(segs[system][i] for i in ids)
            if not _fits(text, _BASE_WORDS) or text[-1] not in ".!?\"'»”’)" or not _balanced(text):
                continue
            words = _content(text)
            if any(_jaccard(words, w) >= 0.5 for w in made):
                continue
            if rng.random() < 0.6:
                text += " " + " ".join(rng.sample(tags, rng.randint(1, min(2, len(tags)))))
            elif rng.random() < 0.3:
                text += " " + _link(rng)
            used.update(ids)
            made.append(words)
            cluster = f"post.{event}.{doc}.{n}"
            n += 1
            out.append({"id": cluster, "text": text, "cluster": cluster})
            others = [s for s in segs if s != system and all(i in segs[s] for i in ids)]
            copies = rng.choice((1, 1, 2, 3)) if rng.random() < 0.5 else 0
            texts, tries = {text}, 0
            while len(texts) <= copies and tries < 50:
                tries += 1
                copy, kinds = _repost_post(
                    rng, text, tags, [" ".join(segs[s][i] for i in ids) for s in others]
                )
                if copy in texts or not _fits(copy, POST_WORDS):
                    continue
                texts.add(copy)
                out.append({"id": f"{cluster}.r{len(texts) - 1}-{kinds}", "text": copy, "cluster": cluster})
    rng.shuffle(out)
    return out


def _overlaps(by_doc: dict[str, list[dict]]) -> dict[tuple[str, str], float]:
    """(document, segment) -> the highest word Jaccard of its sentence (in the human reference)
    with a sentence of another document of its event, near-copies (>= 0.5) left out."""
    out: dict[tuple[str, str], float] = {}
    for docs, _ in EVENTS.values():
        words = {
            d: {
                i: _content(t)
                for i, t in _segments(next(a for a in by_doc[d] if a["system"] == "ref-A")).items()
            }
            for d in docs
            if d in by_doc
        }
        for d, mine in words.items():
            theirs = [w for e, seg in words.items() if e != d for w in seg.values()]
            for i, w in mine.items():
                out[d, i] = max((j for x in theirs if (j := _jaccard(w, x)) < 0.5), default=0.0)
    return out


def _repost_post(
    rng: random.Random, text: str, tags: Sequence[str], translations: list[str]
) -> tuple[str, str]:
    """A repost: 1-2 of a comment or "RT @user:" prepended, hashtags/link toggled, a light edit,
    or (instead of the post's own words) another member's translation of the same sentences."""
    kinds = rng.sample(("comment", "rt", "tag", "link", "edit", "translation"), rng.randint(1, 2))
    if "translation" in kinds and not translations:
        kinds.remove("translation")
        kinds = kinds or ["edit"]
    if "comment" in kinds and "rt" in kinds:
        kinds.remove("rt")
    extras = [m.group(1) for m in _TAG.finditer(text)]
    body = _TAG.sub("", text).strip()
    for kind in kinds:
        if kind == "translation":
            body = rng.choice(translations)
        elif kind == "edit":
            body = _light_edit(rng, body)
        elif kind == "tag":
            hashtags = [e for e in extras if e.startswith("#")]
            extras = [e for e in extras if not e.startswith("#")] if hashtags else [*extras, rng.choice(tags)]
        elif kind == "link":
            links = [e for e in extras if e.startswith("https")]
            extras = [e for e in extras if not e.startswith("https")] if links else [*extras, _link(rng)]
    copy = " ".join([body, *extras])
    if "comment" in kinds:
        copy = f"{rng.choice(COMMENTS)} {copy}"
    elif "rt" in kinds:
        copy = f"RT {_handle(rng)}: {copy}"
    return copy, "+".join(kinds)


# ---------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------


def _spread(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {
        "n": len(values),
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
    }


def evaluate(articles: list[dict[str, str]]) -> dict[str, Any]:
    """Run ``find_duplicates`` with its defaults on ``articles`` and score it against their
    ``cluster``: pair scores, false pairs, and the scores of the verified pairs split by gold;
    also the scores of every candidate pair (a second run with threshold 0) split the same way,
    to show how far apart the two kinds are before the threshold."""
    ids = [a["id"] for a in articles]
    gold = {a["id"]: a["cluster"] for a in articles}
    text = {a["id"]: a["text"] for a in articles}
    t0 = time.perf_counter()
    result = find_duplicates(articles)
    seconds = time.perf_counter() - t0
    sc = score_clusters(ids, [c.members for c in result.clusters], gold)
    false = sorted((p for p in result.pairs if gold[p.a] != gold[p.b]), key=lambda p: -p.score)
    true = [p for p in result.pairs if gold[p.a] == gold[p.b]]
    every = find_duplicates(articles, threshold=0.0).pairs
    every_true = [p.score for p in every if gold[p.a] == gold[p.b]]
    every_false = [p.score for p in every if gold[p.a] != gold[p.b]]
    groups: dict[str, dict[str, Any]] = {}
    for a in articles:
        g = groups.setdefault(group_of(a["id"]), {"articles": 0, "clusters": set()})
        g["articles"] += 1
        g["clusters"].add(a["cluster"])
    for name, g in groups.items():
        inside = [p for p in every if group_of(p.a) == name == group_of(p.b)]
        g["clusters"] = len(g["clusters"])
        g["false_pairs"] = sum(1 for p in false if group_of(p.a) == name == group_of(p.b))
        g["candidate_positives"] = _spread([p.score for p in inside if gold[p.a] == gold[p.b]])
        g["candidate_negatives"] = _spread([p.score for p in inside if gold[p.a] != gold[p.b]])
    return {
        "articles": len(articles),
        "clusters": len(set(gold.values())),
        "scores": sc.to_dict(),
        "seconds": round(seconds, 2),
        "candidates": result.summary["candidates"]["pairs"],
        "verified_pairs": len(result.pairs),
        "false_pairs": len(false),
        "false_pairs_in_clusters": sc.predicted_pairs - sc.correct_pairs,
        "missed_true_pairs": sc.true_pairs - sc.correct_pairs,
        "top_false_pairs": [
            {**p.to_dict(), "text_a": text[p.a][:80], "text_b": text[p.b][:80]} for p in false[:5]
        ],
        "verified_score": {
            "positives": _spread([p.score for p in true]),
            "negatives": _spread([p.score for p in false]),
        },
        "candidate_score": {
            "positives": _spread(every_true),
            "negatives": _spread(every_false),
            "true_pairs_not_candidates": sc.true_pairs - len(every_true),
            "negatives_above_lowest_positive": sum(
                1 for s in every_false if every_true and s >= min(every_true)
            ),
        },
        "groups": groups,
        "params": result.summary["params"],
        "versions": result.summary["versions"],
    }


def group_of(article_id: str) -> str:
    """The family of a listing (``listing.<family>.…``) or the event of a post (``post.<event>.…``)."""
    return article_id.split(".")[1]


def _fmt(spread: dict[str, float | int | None]) -> str:
    if not spread["n"]:
        return "      none"
    return f"{spread['min']:.3f} / {spread['median']:.3f} / {spread['max']:.3f}  (n={spread['n']})"


def _flat(text: str) -> str:
    return " ".join(text.split())


@click.command()
@click.option("--seed", default=0, show_default=True, help="Seed of both stress sets.")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_V3)
@click.option("--save/--no-save", default=True, help="Save results/lookalikes.json.")
def main(seed: int, data: Path, save: bool) -> None:
    """dedup (defaults) on the template-listing and short-post stress sets."""
    sets = {"template_listings": template_listings(seed), "short_posts": short_posts(seed, data)}
    report: dict[str, Any] = {"seed": seed, "data": str(data), "sets": {}}
    for name, articles in sets.items():
        report["sets"][name] = r = evaluate(articles)
        _print_set(name, r)
    if save:
        click.echo(f"saved {save_json('lookalikes', report)}")


def _print_set(name: str, r: dict[str, Any]) -> None:
    s, c = r["scores"], r["candidate_score"]
    echo = click.echo
    echo(f"== {name}: {r['articles']} articles, {r['clusters']} gold clusters, {s['true_pairs']} true pairs")
    echo(
        f"   precision {s['precision']:.4f}  recall {s['recall']:.4f}  F1 {s['f1']:.4f}"
        f"  ARI {s['ari']:.4f}  ({r['seconds']:.1f} s)"
    )
    echo(
        f"   verified pairs {r['verified_pairs']} of {r['candidates']} candidates, false {r['false_pairs']};"
        f" false pairs inside output clusters {r['false_pairs_in_clusters']};"
        f" true pairs missed {r['missed_true_pairs']}"
    )
    echo("   score min / median / max")
    echo(f"     verified positives  {_fmt(r['verified_score']['positives'])}")
    echo(f"     verified negatives  {_fmt(r['verified_score']['negatives'])}")
    echo(
        f"     candidate positives {_fmt(c['positives'])}  (+{c['true_pairs_not_candidates']} not candidates)"
    )
    above = c["negatives_above_lowest_positive"]
    echo(f"     candidate negatives {_fmt(c['negatives'])}  ({above} at or above the lowest positive)")
    by = "by family" if name.startswith("template") else "by event"
    echo(
        f"   {by:18s} {'articles':>8s} {'false':>6s}   {'candidate positives':30s} candidate negatives inside"
    )
    for g, v in sorted(r["groups"].items(), key=lambda kv: -kv[1]["articles"]):
        pos, neg = _fmt(v["candidate_positives"]), _fmt(v["candidate_negatives"])
        echo(f"   {g:18s} {v['articles']:8d} {v['false_pairs']:6d}   {pos:30s} {neg}")
    echo("   highest-scoring false pairs (score = cosine, sentence match):")
    for p in r["top_false_pairs"]:
        echo(f"     {p['score']:.3f} = {p['cosine']:.3f}, {p['sentence_match']:.3f}  {p['a']}  ~  {p['b']}")
        echo(f"         a: {_flat(p['text_a'])}")
        echo(f"         b: {_flat(p['text_b'])}")


if __name__ == "__main__":
    main()
