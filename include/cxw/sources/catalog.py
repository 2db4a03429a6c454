"""The shop's product catalog: deterministic in the seed, with price changes and discontinued items."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from cxw.sources.util import py_rng

CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Kitchen": (
        35.0,
        (
            "Cast Iron Skillet",
            "Chef Knife",
            "Pour-Over Coffee Set",
            "Bamboo Cutting Board",
            "Stand Mixer",
            "Glass Storage Set",
            "Enamel Dutch Oven",
            "Espresso Grinder",
        ),
    ),
    "Outdoor": (
        60.0,
        (
            "Trail Backpack",
            "Camping Hammock",
            "Insulated Water Bottle",
            "Folding Camp Chair",
            "LED Headlamp",
            "Two-Person Tent",
            "Down Sleeping Bag",
            "Trekking Poles",
        ),
    ),
    "Apparel": (
        40.0,
        (
            "Merino Crew Sweater",
            "Rain Shell Jacket",
            "Canvas Work Pants",
            "Wool Hiking Socks",
            "Organic Cotton Tee",
            "Fleece Hoodie",
            "Leather Belt",
            "Knit Beanie",
        ),
    ),
    "Home Decor": (
        45.0,
        (
            "Linen Throw Pillow",
            "Ceramic Vase",
            "Wool Area Rug",
            "Scented Soy Candle",
            "Wall Mirror",
            "Table Lamp",
            "Woven Storage Basket",
            "Framed Print",
        ),
    ),
    "Fitness": (
        50.0,
        (
            "Yoga Mat",
            "Adjustable Dumbbells",
            "Resistance Bands",
            "Foam Roller",
            "Jump Rope",
            "Kettlebell",
            "Balance Board",
            "Pull-Up Bar",
        ),
    ),
    "Electronics Accessories": (
        30.0,
        (
            "Wireless Charger",
            "USB-C Hub",
            "Bluetooth Speaker",
            "Noise-Cancelling Earbuds",
            "Laptop Stand",
            "Phone Case",
            "Portable Power Bank",
            "Smart Plug",
        ),
    ),
}
VARIANTS = ("Black", "Natural", "Navy", "Olive", "Grey", "Large", "Small")
VENDORS = (
    "Northwind Goods",
    "Harbor & Pine",
    "Atlas Outfitters",
    "Evergreen Living",
    "Summit Supply",
)
HORIZON_DAYS = 365 * 30  # price changes are drawn this far ahead: independent of --days


@dataclass
class Product:
    id: int
    title: str
    product_type: str
    vendor: str
    sku: str
    created_t: float
    launch_t: float  # draft until then
    end_t: float  # discontinued (archived + deleted) at this time, inf = never
    price_times: list[float] = field(default_factory=list)
    prices: list[int] = field(default_factory=list)  # cents

    def price_at(self, t: float) -> int:
        k = bisect.bisect_right(self.price_times, t) - 1
        return self.prices[max(k, 0)]

    def active(self, t: float) -> bool:
        return self.launch_t <= t < self.end_t


def build_catalog(seed: int) -> list[Product]:
    """About 130 products created on the origin day; a few launch later, some are discontinued."""
    rng = py_rng(seed, "catalog")
    products: list[Product] = []
    pid = 0
    for category, (mean, titles) in CATEGORIES.items():
        for title in titles:
            for variant in rng.sample(VARIANTS, rng.randint(2, 3)):
                pid += 1
                created = rng.uniform(0.0, 0.9)
                launch = created if rng.random() < 0.85 else rng.uniform(30.0, 600.0)
                end = rng.uniform(90.0, 900.0) if rng.random() < 0.15 else float("inf")
                base = max(299, round(rng.lognormvariate(0.0, 0.6) * mean * 100))
                p = Product(
                    id=pid,
                    title=f"{title} - {variant}",
                    product_type=category,
                    vendor=rng.choice(VENDORS),
                    sku=f"{category[:3].upper()}-{pid:04d}-{variant[:2].upper()}",
                    created_t=created,
                    launch_t=launch,
                    end_t=end,
                    price_times=[created],
                    prices=[base],
                )
                t = created
                while True:
                    t += rng.expovariate(1 / 150.0)
                    if t > HORIZON_DAYS:
                        break
                    change = rng.choice((0.9, 0.95, 1.05, 1.1, 1.15))
                    p.price_times.append(t)
                    p.prices.append(max(199, round(p.prices[-1] * change)))
                products.append(p)
    return products
