"""Deterministic synthetic retail warehouse (≥ 1M order lines) with planted data-quality faults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datatruth.demo import DEFAULT_SEED, GENERATOR_VERSION  # noqa: F401  (still importable from here)

# (city, state, state code, region, weight): weights loosely follow metro population.
CITIES = [
    ("New York", "New York", "NY", "Northeast", 9),
    ("Buffalo", "New York", "NY", "Northeast", 2),
    ("Boston", "Massachusetts", "MA", "Northeast", 4),
    ("Philadelphia", "Pennsylvania", "PA", "Northeast", 5),
    ("Pittsburgh", "Pennsylvania", "PA", "Northeast", 2),
    ("Newark", "New Jersey", "NJ", "Northeast", 3),
    ("Hartford", "Connecticut", "CT", "Northeast", 1),
    ("Houston", "Texas", "TX", "South", 6),
    ("Dallas", "Texas", "TX", "South", 6),
    ("Austin", "Texas", "TX", "South", 3),
    ("San Antonio", "Texas", "TX", "South", 3),
    ("Miami", "Florida", "FL", "South", 5),
    ("Orlando", "Florida", "FL", "South", 3),
    ("Tampa", "Florida", "FL", "South", 3),
    ("Atlanta", "Georgia", "GA", "South", 5),
    ("Charlotte", "North Carolina", "NC", "South", 3),
    ("Raleigh", "North Carolina", "NC", "South", 2),
    ("Nashville", "Tennessee", "TN", "South", 2),
    ("Chicago", "Illinois", "IL", "Midwest", 8),
    ("Detroit", "Michigan", "MI", "Midwest", 4),
    ("Columbus", "Ohio", "OH", "Midwest", 2),
    ("Cleveland", "Ohio", "OH", "Midwest", 2),
    ("Minneapolis", "Minnesota", "MN", "Midwest", 3),
    ("St. Louis", "Missouri", "MO", "Midwest", 2),
    ("Kansas City", "Missouri", "MO", "Midwest", 2),
    ("Milwaukee", "Wisconsin", "WI", "Midwest", 2),
    ("Los Angeles", "California", "CA", "West", 10),
    ("San Francisco", "California", "CA", "West", 5),
    ("San Diego", "California", "CA", "West", 4),
    ("Sacramento", "California", "CA", "West", 2),
    ("Seattle", "Washington", "WA", "West", 4),
    ("Portland", "Oregon", "OR", "West", 2),
    ("Denver", "Colorado", "CO", "West", 3),
    ("Phoenix", "Arizona", "AZ", "West", 5),
    ("Las Vegas", "Nevada", "NV", "West", 2),
    ("Salt Lake City", "Utah", "UT", "West", 1),
]
AREA_CODES = {
    "NY": 212,
    "MA": 617,
    "PA": 215,
    "NJ": 973,
    "CT": 860,
    "TX": 512,
    "FL": 305,
    "GA": 404,
    "NC": 704,
    "TN": 615,
    "IL": 312,
    "MI": 313,
    "OH": 614,
    "MN": 612,
    "MO": 314,
    "WI": 414,
    "CA": 415,
    "WA": 206,
    "OR": 503,
    "CO": 303,
    "AZ": 602,
    "NV": 702,
    "UT": 801,
}
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Wei",
    "Emily",
    "Steven",
    "Priya",
    "Andrew",
    "Olivia",
    "Kenji",
    "Sofia",
    "Ahmed",
    "Grace",
    "Luis",
    "Chloe",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Patel",
    "Kim",
]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "example.org"]
SEGMENTS = (["Consumer", "Small Business", "Corporate"], [0.62, 0.25, 0.13])
# category -> (subcategories, brands, median unit price)
CATALOG = {
    "Electronics": (
        ["Phones", "Laptops", "Audio", "Accessories"],
        ["Voltix", "Nimbus", "Auralis", "Kestrel"],
        180.0,
    ),
    "Home": (["Kitchen", "Furniture", "Decor", "Bedding"], ["Hearth & Co", "Oakline", "Casa Viva"], 60.0),
    "Apparel": (["Men", "Women", "Kids", "Shoes"], ["Northway", "Lumen", "Trailhead"], 35.0),
    "Sports": (["Fitness", "Outdoor", "Cycling", "Team Sports"], ["Peakform", "Ridgeback", "Velo"], 55.0),
    "Beauty": (["Skincare", "Makeup", "Fragrance", "Hair"], ["Glow Lab", "Maison Rose", "Pure Leaf"], 25.0),
    "Grocery": (["Snacks", "Beverages", "Pantry", "Coffee & Tea"], ["Green Basket", "Daily Harvest"], 8.0),
}
ADJ = ["Classic", "Pro", "Ultra", "Eco", "Smart", "Premium", "Everyday", "Compact", "Deluxe", "Essential"]
MARKETING_CHANNELS = ["Search", "Social", "Email", "Display", "Affiliate"]
RETURN_REASONS = ["Damaged", "Wrong size", "Not as described", "Changed mind", "Late delivery"]


@dataclass(frozen=True)
class PlantedFault:
    """A data-quality problem deliberately planted in the demo data, for the quality pages to find."""

    name: str
    table: str
    column: str
    description: str


@dataclass(frozen=True)
class RetailData:
    """The generated tables, ready to load."""

    tables: dict[str, pd.DataFrame]
    faults: tuple[PlantedFault, ...]
    start: dt.date
    end: dt.date


def _dates(start: dt.date, days: int) -> np.ndarray:
    return np.datetime64(start, "D") + np.arange(days)


def generate_retail(end: dt.date, seed: int = DEFAULT_SEED, target_lines: int = 1_100_000) -> RetailData:
    """Generate the retail tables for the three years ending on `end` (inclusive)."""
    rng = np.random.default_rng(seed)
    start = (
        dt.date(end.year - 3, end.month, end.day) + dt.timedelta(days=1)
        if not (end.month == 2 and end.day == 29)
        else dt.date(end.year - 3, 3, 1)
    )
    n_days = (end - start).days + 1
    faults: list[PlantedFault] = []

    # --- products -----------------------------------------------------------------------------
    prows = []
    pid = 1
    for category, (subs, brands, median) in CATALOG.items():
        for sub in subs:
            for _ in range(18):
                brand = brands[int(rng.integers(len(brands)))]
                price = float(np.round(median * rng.lognormal(0.0, 0.45), 2)) + 0.99
                price = round(price, 2)
                cost = round(price * float(rng.uniform(0.42, 0.72)), 2)
                name = f"{brand} {ADJ[int(rng.integers(len(ADJ)))]} {sub.rstrip('s')} {pid:03d}"
                prows.append((pid, name, category, sub, brand, cost, price))
                pid += 1
    products = pd.DataFrame(
        prows,
        columns=["product_id", "product_name", "category", "subcategory", "brand", "unit_cost", "unit_price"],
    )
    n_products = len(products)

    # --- stores ---------------------------------------------------------------------------------
    city_w = np.array([c[4] for c in CITIES], dtype=float)
    store_cities = rng.choice(len(CITIES), size=30, replace=True, p=city_w / city_w.sum())
    srows = []
    for i, ci in enumerate(store_cities, start=1):
        city, state, code, region, _ = CITIES[ci]
        opened = start - dt.timedelta(days=int(rng.integers(200, 3000)))
        srows.append((i, f"{city} #{i}", "Store", city, state, code, region, opened))
    online_id = len(srows) + 1
    srows.append(
        (online_id, "Online Store", "Online", None, None, None, None, start - dt.timedelta(days=2000))
    )
    stores = pd.DataFrame(
        srows,
        columns=["store_id", "store_name", "channel", "city", "state", "state_code", "region", "opened_date"],
    )
    stores["opened_date"] = pd.to_datetime(stores["opened_date"]).dt.date

    # --- customers -------------------------------------------------------------------------------
    n_cust = 60_000
    # Sign-ups accelerate over time: growth shows up as more new customers each year.
    history = n_days + 730
    u = rng.random(n_cust)
    offs = np.floor(history * np.sqrt(u)).astype(int)
    signup = np.datetime64(start - dt.timedelta(days=730), "D") + np.sort(offs)
    ci = rng.choice(len(CITIES), size=n_cust, p=city_w / city_w.sum())
    first = np.array(FIRST)[rng.integers(len(FIRST), size=n_cust)]
    last = np.array(LAST)[rng.integers(len(LAST), size=n_cust)]
    cust_id = np.arange(1, n_cust + 1)
    domain = np.array(DOMAINS)[rng.integers(len(DOMAINS), size=n_cust)]
    email = (
        pd.Series(first).str.lower() + "." + pd.Series(last).str.lower() + cust_id.astype(str) + "@" + domain
    )
    codes = np.array([CITIES[i][2] for i in ci])
    area = np.array([AREA_CODES[c] for c in codes])
    local = rng.integers(0, 10_000, size=n_cust)
    phone_old = pd.Series([f"({a}) 555-{n:04d}" for a, n in zip(area, local, strict=True)])
    phone_new = pd.Series([f"+1-{a}-555-{n:04d}" for a, n in zip(area, local, strict=True)])
    drift_from = np.datetime64(end - dt.timedelta(days=150), "D")
    phone = phone_old.where(signup < drift_from, phone_new)
    faults.append(
        PlantedFault(
            "phone_format_drift",
            "customers",
            "phone",
            f"phone numbers of customers who signed up from {drift_from} on are written "
            "'+1-AAA-555-NNNN' instead of '(AAA) 555-NNNN'",
        )
    )
    seg_names, seg_p = SEGMENTS
    customers = pd.DataFrame(
        {
            "customer_id": cust_id,
            "customer_name": pd.Series(first) + " " + pd.Series(last),
            "email": email,
            "phone": phone,
            "segment": np.array(seg_names)[rng.choice(len(seg_names), size=n_cust, p=seg_p)],
            "region": [CITIES[i][3] for i in ci],
            "state": [CITIES[i][1] for i in ci],
            "state_code": codes,
            "city": [CITIES[i][0] for i in ci],
            "signup_date": signup,
        }
    )
    # Fault: a sign-up form broke for a month in the West: those customers have no email.
    gap_start = np.datetime64(end - dt.timedelta(days=400), "D")
    gap_end = gap_start + 45
    missing = (
        (customers["region"] == "West")
        & (customers["signup_date"] >= gap_start)
        & (customers["signup_date"] < gap_end)
    )
    customers.loc[missing, "email"] = None
    faults.append(
        PlantedFault(
            "missing_emails",
            "customers",
            "email",
            f"{int(missing.sum())} West-region customers who signed up between {gap_start} and "
            f"{gap_end} have no email",
        )
    )

    # --- orders ----------------------------------------------------------------------------------
    days = _dates(start, n_days)
    t = np.arange(n_days) / 365.25
    dow = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    weekly = np.array([0.92, 0.9, 0.95, 1.0, 1.12, 1.25, 1.08])[dow]
    month = (days.astype("datetime64[M]").astype(int) % 12) + 1
    yearly = np.array([0.85, 0.82, 0.92, 0.95, 1.0, 0.98, 0.97, 1.0, 0.96, 1.02, 1.25, 1.45])[month - 1]
    growth = 1.0 + 0.18 * t
    lines_per_order = 2.4
    intensity = weekly * yearly * growth
    per_day = intensity / intensity.sum() * (target_lines / lines_per_order)
    n_orders_day = rng.poisson(per_day)
    n_orders = int(n_orders_day.sum())
    order_day = np.repeat(np.arange(n_days), n_orders_day)
    order_date = days[order_day]
    # Customers: any who had signed up by the order date, skewed toward loyal (early) ones.
    signed = np.searchsorted(
        customers["signup_date"].to_numpy().astype("datetime64[D]"), order_date, side="right"
    )
    signed = np.maximum(signed, 1)
    pick = np.floor(signed * rng.random(n_orders) ** 1.3).astype(int)
    order_customer = cust_id[pick]
    online = rng.random(n_orders) < (0.38 + 0.08 * t[order_day])
    phys = rng.integers(1, online_id, size=n_orders)
    store_id = np.where(online, online_id, phys)
    hour = np.where(online, rng.integers(0, 24, size=n_orders), rng.integers(9, 21, size=n_orders))
    seconds = hour * 3600 + rng.integers(0, 3600, size=n_orders)
    order_ts = order_date.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    loaded_at = order_ts + rng.integers(60, 1800, size=n_orders).astype("timedelta64[s]")
    late_day = np.datetime64(end - dt.timedelta(days=200), "D")
    late = order_date == late_day
    loaded_at = np.where(late, loaded_at + np.timedelta64(3 * 86400 + 5 * 3600, "s"), loaded_at)
    faults.append(
        PlantedFault(
            "late_orders",
            "orders",
            "loaded_at",
            f"all {int(late.sum())} orders of {late_day} were loaded more than 3 days late",
        )
    )
    order_id = np.arange(1, n_orders + 1)
    orders = pd.DataFrame(
        {
            "order_id": order_id,
            "customer_id": order_customer,
            "store_id": store_id,
            "channel": np.where(online, "Online", "Store"),
            "order_date": order_date,
            "order_ts": order_ts,
            "loaded_at": loaded_at,
        }
    )

    # --- order lines -----------------------------------------------------------------------------
    n_lines_per = 1 + rng.poisson(lines_per_order - 1, size=n_orders)
    n_lines = int(n_lines_per.sum())
    line_order = np.repeat(np.arange(n_orders), n_lines_per)
    pop = 1.0 / np.arange(1, n_products + 1) ** 0.7
    perm = rng.permutation(n_products)
    prod_idx = perm[rng.choice(n_products, size=n_lines, p=pop / pop.sum())]
    qty = 1 + rng.poisson(0.45, size=n_lines)
    line_price = products["unit_price"].to_numpy()[prod_idx]
    cost = products["unit_cost"].to_numpy()[prod_idx]
    line_month = month[order_day[line_order]]
    promo = np.where(line_month >= 11, 0.35, 0.18)
    disc = np.where(rng.random(n_lines) < promo, rng.choice([0.05, 0.1, 0.15, 0.2], size=n_lines), 0.0)
    # Fault: a decimal-point slip in the price feed for one day multiplied some prices by 100.
    spike_day = np.datetime64(end - dt.timedelta(days=90), "D")
    spike_products = perm[:3]
    spike = (order_date[line_order] == spike_day) & np.isin(prod_idx, spike_products)
    line_price = np.where(spike, line_price * 100, line_price)
    net = np.round(qty * line_price * (1 - disc), 2)
    order_lines = pd.DataFrame(
        {
            "order_line_id": np.arange(1, n_lines + 1),
            "order_id": order_id[line_order],
            "product_id": products["product_id"].to_numpy()[prod_idx],
            "quantity": qty,
            "unit_price": np.round(line_price, 2),
            "unit_cost": cost,
            "discount_pct": disc,
            "net_amount": net,
        }
    )
    faults.append(
        PlantedFault(
            "price_outlier_spike",
            "order_lines",
            "unit_price",
            f"{int(spike.sum())} order lines on {spike_day} carry prices 100x the list price",
        )
    )

    # --- returns ---------------------------------------------------------------------------------
    ret = rng.random(n_lines) < 0.045
    r_idx = np.flatnonzero(ret)
    r_date = order_date[line_order[r_idx]] + rng.integers(3, 31, size=len(r_idx))
    keep = r_date <= np.datetime64(end, "D")
    r_idx, r_date = r_idx[keep], r_date[keep]
    r_qty = np.minimum(qty[r_idx], 1 + rng.poisson(0.2, size=len(r_idx)))
    returns = pd.DataFrame(
        {
            "return_id": np.arange(1, len(r_idx) + 1),
            "order_line_id": r_idx + 1,
            "order_id": order_id[line_order[r_idx]],
            "return_date": r_date,
            "quantity": r_qty,
            "refund_amount": np.round(net[r_idx] * r_qty / qty[r_idx], 2),
            "reason": np.array(RETURN_REASONS)[rng.integers(len(RETURN_REASONS), size=len(r_idx))],
        }
    )

    # --- marketing spend -------------------------------------------------------------------------
    months = pd.period_range(start=start, end=end, freq="M")
    mrows: list[tuple[object, ...]] = []
    base = {"Search": 42000, "Social": 30000, "Email": 6000, "Display": 15000, "Affiliate": 9000}
    for i, m in enumerate(months):
        season = 1.35 if m.month in (11, 12) else 1.0
        for ch in MARKETING_CHANNELS:
            spend = base[ch] * season * (1 + 0.012 * i) * float(rng.uniform(0.9, 1.1))
            mrows.append((len(mrows) + 1, m.to_timestamp().date(), ch, round(spend, 2)))
    marketing = pd.DataFrame(mrows, columns=["spend_id", "month", "marketing_channel", "spend"])

    # Fault: a re-imported batch duplicated 240 customers under new ids.
    dup_src = customers.sample(n=240, random_state=seed % (2**32)).copy()
    dup_src["customer_id"] = np.arange(n_cust + 1, n_cust + 1 + len(dup_src))
    customers = pd.concat([customers, dup_src], ignore_index=True)
    faults.append(
        PlantedFault(
            "duplicate_customers",
            "customers",
            "email",
            f"{len(dup_src)} customers were imported twice under new customer_id values "
            "(same name, email, phone and city)",
        )
    )

    return RetailData(
        tables={
            "customers": customers,
            "products": products,
            "stores": stores,
            "orders": orders,
            "order_lines": order_lines,
            "returns": returns,
            "marketing_spend": marketing,
        },
        faults=tuple(faults),
        start=start,
        end=end,
    )


# Column types for loading; DuckDB would infer most, but money must be DECIMAL, not DOUBLE.
RETAIL_DDL = {
    "customers": "customer_id INTEGER PRIMARY KEY, customer_name VARCHAR, email VARCHAR, phone VARCHAR, segment VARCHAR, "
    "region VARCHAR, state VARCHAR, state_code VARCHAR, city VARCHAR, signup_date DATE",
    "products": "product_id INTEGER PRIMARY KEY, product_name VARCHAR, category VARCHAR, subcategory VARCHAR, "
    "brand VARCHAR, unit_cost DECIMAL(12,2), unit_price DECIMAL(12,2)",
    "stores": "store_id INTEGER PRIMARY KEY, store_name VARCHAR, channel VARCHAR, city VARCHAR, state VARCHAR, "
    "state_code VARCHAR, region VARCHAR, opened_date DATE",
    "orders": "order_id BIGINT PRIMARY KEY, customer_id INTEGER, store_id INTEGER, channel VARCHAR, order_date DATE, "
    "order_ts TIMESTAMP, loaded_at TIMESTAMP",
    "order_lines": "order_line_id BIGINT PRIMARY KEY, order_id BIGINT, product_id INTEGER, quantity INTEGER, "
    "unit_price DECIMAL(12,2), unit_cost DECIMAL(12,2), discount_pct DECIMAL(5,2), "
    "net_amount DECIMAL(14,2)",
    "returns": "return_id BIGINT PRIMARY KEY, order_line_id BIGINT, order_id BIGINT, return_date DATE, "
    "quantity INTEGER, refund_amount DECIMAL(14,2), reason VARCHAR",
    "marketing_spend": "spend_id INTEGER PRIMARY KEY, month DATE, marketing_channel VARCHAR, spend DECIMAL(14,2)",
}
