"""The deterministic planner on the shipped retail and flights models: golden plans and readings, refusals.

Each question's plan and interpretation are compared with tests/golden/planner/<workspace>.json, each refusal's
message, interpretation and choices with <workspace>_refusals.json (rewrite with DATATRUTH_REWRITE_GOLDEN=1 and
review the diff). The value index comes from the snapshot tests/golden/planner/<workspace>_values.json, which
test_value_index.py checks against the demo warehouse, so these tests need no warehouse. Every golden plan must
compile with the semantic compiler, and every choice a refusal offers must plan.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from datatruth.ask.planner import MAX_QUESTION_CHARS, RulePlanner, interpretation_of, plan_question
from datatruth.ask.value_index import ValueIndex
from datatruth.errors import PlanningError
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import SemanticLayer, load_semantic_model
from datatruth.semantic.plan import Filter, QueryPlan
from datatruth.store.feedback import LearnedSynonym

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "planner"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"
TODAY = {"retail": dt.date(2026, 10, 31), "flights": dt.date(2013, 12, 31)}

# Questions per workspace and class. The regression lists were written with the first planner; the other
# classes name what the reworked planner reads (or refuses) and why.
QUESTIONS: dict[str, dict[str, list[str]]] = {
    "retail": {
        "the model's own words: 'budget' for marketing spend, 'gear' for products": [
            "marketing budget by channel in Q1 2026",
            "how many customers bought Kestrel gear in 2025",
        ],
        "'the most <figure in the plural>' ranks members by its total, never by one row's amount": [
            "which 2 stores had the most refunds in Q1 2026",
        ],
        "'top N <things> by <figure>' ranks by the figure, though its name is also a column or a kind of row": [
            "top 4 brands by refunds in 2024",
            "top 3 stores by orders in Q2 2026",
        ],
        "'give me <a figure that adds up an amount>' is that amount, though its rows are named alike": [
            "Give me marketing spend in Q1 2026",
        ],
        "'what does each one cost' of things listed is their per-item column": [
            "which Nimbus products do we carry, and what does each one cost us?",
        ],
        "a count of things whose verb starts the next figure's name counts them over that figure's rows": [
            "how many customers returned units in Q3 2026",
        ],
        "the things right after the verb of the rows counted are what the verb acts on": [
            "how many customers bought products in Q2 2026",
        ],
        "'what's the difference' of two compared periods is the later less the earlier": [
            "orders in March 2026 compared with March 2025 - what's the difference?",
        ],
        "'since the start of <period>' runs from that period's first day to today": [
            "new customers each month since the start of 2026",
        ],
        "a grain's adverb misspelt by one letter": [
            "monthy refunds in 2025",
        ],
        "a name column ranked with no figure is ranked by the count of the rows it belongs to": [
            "the most common return reason in each store region in 2024",
        ],
        "a ratio or derived figure compared over two periods is worked out from its parts in each": [
            "which categories had a higher gross margin % in Q2 2026 than in Q1 2026",
            "how much more gross margin did we make in 2025 than in 2024",
        ],
        "'how many more or fewer … than' is the signed difference of the two periods": [
            "how many more or fewer orders did we get in September 2026 than in September 2025",
        ],
        "'more often … than' over a name column counts the rows it belongs to": [
            "Which return reasons came up less often in Q2 2026 than in Q1 2026?",
        ],
        "'a <value> return' after a figure of one return names the member, not a second figure": [
            "largest single refund for a Damaged return in 2025",
        ],
        "'A vs B (X plus Y)': the figure defined in brackets stands on its side of 'vs', named by the words after it": [
            "revenue vs total outflow (cost plus refunds) in 2025",
        ],
        "members counted by a test of a figure in a period are counted over the rows the figure counts": [
            "how many stores took more than 2,500 orders in 2025",
        ],
        "'… and when they opened' after the rows asked for is the date column the verb names": [
            "Texas stores and when they opened",
        ],
        "'each' with two letters swapped before a period still asks for one row per period": [
            "How many returns did we have eahc month in 2025?",
        ],
        "a comparative said by a phrasing ('busier', 'quieter') with two periods keeps the members it fits": [
            "Which West stores were busier in August 2026 than in August 2025?",
            "which stores were quieter in Q3 2026 than in Q3 2025",
        ],
        "a kind of product said in the plural before one column lists those products, keyed": [
            "Show me the Voltix phones with their unit cost",
        ],
        "a misspelt growth word still sets the periods against each other": [
            "how much did revenue chnage from Q1 2026 to Q2 2026",
        ],
        "'among X, which one …': one of those members, ranked (within each group when 'in each' is said)": [
            "Among our physical stores, which one brought in the most revenue in each store region in 2025?",
        ],
        "a change from a period to the same period a year later: the later against the year before": [
            "change in revenue, Q3 2025 to Q3 2026",
        ],
        "'highest' / 'lowest' before words naming a figure and a kind of thing grade the figure": [
            "which month had the highest marketing spend in 2026",
        ],
        "a ranking within each group of a column the figure reaches, named by a shorter word ('each channel')": [
            "which quarter of 2025 had the highest marketing spend for each channel",
        ],
        "how many more (fewer) in one period than another: both figures and the difference": [
            "How many more online orders did we get in October 2026 than in October 2025?",
            "how much less revenue did we make in Q2 2026 than in Q3 2026",
        ],
        "a change from one period to the next: the later period against the one before, with the difference": [
            "By how many dollars did Electronics revenue change from Q2 2026 to Q3 2026?",
        ],
        "with a grain, 'from A to B' is the range whose every period is set against the one before it": [
            "revenue change by month from January to June 2026",
            "monthly revenue growth from Q1 to Q2 2026",
        ],
        "a share whose part is a compared number: the part's rows over the rows where the number is known": [
            "what share of order lines had a discount of 20% or more in 2025",
        ],
        "a word of the metric's own name before its synonym restates it": ["new sign-ups by month in 2025"],
        "a condition the question names before using it is said in full at each use": [
            "Let's call a large order one worth more than $500. How many large orders were placed in September 2026?",
            "Treat any order with more than $2,000 of revenue as a whale order. What share of 2025 orders were whales?",
        ],
        "a count asked after what it counts ('X - how many?') is 'how many X'": [
            "returns for wrong size last quarter: how many were there?",
        ],
        "a share of the members that pass a test of their own figure: their figure over every member's": [
            "What share of September 2026 orders had more than $750 of revenue?",
            "share of customers with more than 10 orders in 2025",
        ],
        "members whose figure in one period beats another: both figures, the change, and the rows it keeps": [
            "Which product categories took in more in October 2026 than they did in September?",
            "which stores had fewer orders in September 2026 than in August 2026",
            "South region stores whose revenue in 2025 was higher than in 2024",
        ],
        "a period's share of a longer period that holds it; 'per X' with X's id shown is one figure each": [
            "what share of 2025 revenue came in December",
            "What's the revenue per store in 2025? Show the store id too.",
        ],
        "plural day names are every such day; two of them set against each other get a row each": [
            "Did we sell more units on Saturdays or on Sundays last year?",
            "units sold on weekends last year",
        ],
        "'<value> <its column> <noun>' narrows the noun; '- id, name, …' after a list of one table's columns": [
            "which South region stores had the most revenue in 2025",
            "nimbus phones - id, name, list price, unit cost",
        ],
        "a figure split by an entity's name is split by the entity, key first": [
            "revenue by customer name last month",
        ],
        "a short capitalised value leading the last of a list; a rate said as what something is; 'each <value> X'": [
            "Units sold for Kids, Men and Women apparel last year",
            "Total units sold at a 20% dicount in 2025",
            "What's the most profitible product in each Home subcategory this year?",
        ],
        "a formula with parentheses, read whole": [
            "gross sales / (gross sales + revenue) in 2025",
            "(gross sales - revenue) / gross sales by month in 2025",
        ],
        "a figure between a ranking word and the thing ranked, with 'each' said: the best one in each group": [
            "the highest-revenue store in each region this year",
            "For each store region, the higest-revenue store this year",
        ],
        "a value right after a column is of the thing that owns the column; 'the same stretch of last year'": [
            "list the store names in Texas",
            "Year-to-date order count against the same stretch of last year",
        ],
        "a named day with a relative year ('on Valentine's Day this yaer') is that day, misspelt year and all": [
            "how many Beauty items did we sell on Valentine's Day this yaer?",
            "revenue on Christmas Eve last year",
        ],
        "'as a share of the Beauty total' after Beauty units: the whole the value already names": [
            "Beauty units in 2025 by subcategory as a share of the Beauty total",
        ],
        "'are sign-ups up … versus last month? Show both months': the compared periods, one row each": [
            "Are sign-ups up this month versus last month? Show both months.",
        ],
        "'per' with values before the averaged column's own rows averages over them; it splits nothing": [
            "What was the average refund per Damaged return logged in August 2026?",
        ],
        "'through' before a value is the way it happened; 'ids' is the plural of id": [
            "how many distinct customers ordered through the online channel in September 2026",
            "Pure Leaf fragrance products: product ids, names and list prices",
        ],
        "'came back' returns, 'moved' sells; a condition on a figure per value of a column after such a verb": [
            "Count the different products that came back for wrong size this year.",
            "Which brands moved fewer than 3,000 units in October 2026?",
        ],
        "'what did shoppers spend': the noun is who did what the figure's verb says": [
            "What did shoppers spend in-store on discounted items during August 2026?",
        ],
        "'when they opened' in a list asks for the date the verb names; a year before a noun of things after "
        "'from' / 'of' is the year ('order lines from 2025 orders')": [
            "Show me the Oregon stores with their city and when they opened",
            "How many order lines from 2025 orders had a discount of 20% or more?",
        ],
        "a misspelt compare word still compares periods; a phrasing's figure ranks a column of names; a formula "
        "ends at a dash before the question; 'returned more than N times' counts the verb's own dated rows (an "
        "order line is no order); a number before the things sorted limits them": [
            "compre new signups in September 2026 with September 2025",
            "best-selling brand in each product category in 2025",
            "Define items per order as units sold divided by number of orders - what was it for Online vs Store "
            "last quarter?",
            "How many products were returned more than 40 times in 2025?",
            "how many customers returned something more than 3 times this year",
            "the 5 stores sorted by revenue in 2025",
        ],
        "a ranking beside another thing said with each / every / per holds within each of them; the possessive "
        "'each customer's region' does not; a plural value before 'with' lists the rows of its kind; 'rank' / "
        "'sort' as a command; 'across' before listed values; a misspelt time connector; 'how much did shoppers "
        "spend' has the shoppers as its subject": [
            "top 3 products in each category by revenue",
            "For each category, the single product with the highest revenue in Q2 2026",
            "top product by revenue each month in 2025",
            "top 5 customers by revenue with each customer's region",
            "show me the Voltix laptops with their list price and unit cost",
            "rank the stores by revenue in 2025",
            "sort the brands by units sold last year, lowest first",
            "Units sold in 2025 across Phones, Laptops or Audio products, as one combined total",
            "new signups betwen March and May 2026",
            "orders placed aftr 1 May 2026",
            "How much did shoppers spend on full-price items in-store last quarter?",
        ],
        "'on lines' is no value 'Online'; a timestamp's snake-case name is a verb ('ordered at the Denver store'); a "
        "percent condition on a percent figure; 'compare between A and B'; '<superlative> <figure> first' orders "
        "a list; 'how many items did we sell' is the figure 'items sold'": [
            "What was the gross margin on lines discounted between 5% and 15% in 2025?",
            "how many unique customers have ordered at the Denver store this year?",
            "which product subcategories are running a margin % under 40% this year?",
            "how does revenue per customer compare between Corporate and Small Business clients this year?",
            "list October's returns with a refund above $500, biggest refund first",
            "how many items did we sell at full price last month",
        ],
        "'Voltix vs Auralis: A and B' lists two figures (a bare formula needs an operator); '2021 or later' is "
        "open-ended; 'the same quarter a year earlier' compares": [
            "Voltix vs Auralis: units sold and gross margin in Q3 2026",
            "How many orders did stores that opened in 2021 or later get this year?",
            "How did revenue in the third quarter of 2026 compare with the same quarter a year earlier?",
        ],
        "'the reason was A or B' filters, one total; 'each order's date and total' is the order total; 'six "
        "highest gross-margin products' ranks products; 'teh' is 'the'": [
            "How much have we refunded this year on returns where the reason was Damaged or Not as described?",
            "List the orders customer 35 placed last quarter, oldest first, with each order's date and total.",
            "Give me our six highest gross-margin products so far this year.",
            "show me teh four largest refunds in October 2026 - return id, date, reason and amount",
        ],
        "a name never runs across a comma ('by return reason, for returns in 2025'); 'list the Trailhead returns' "
        "lists rows": [
            "median refund per return, broken down by return reason, for returns in 2025",
            "List the Trailhead returns for Damaged items in October 2026, newest first, with the refund on each",
        ],
        "contractions and '#' before a code; a misspelt light verb; 'lifetime'; 'stack up against' compares; a value "
        "owned by the thing named right after it; bare 'ids' of the grouped entity; a dash-apposition definition": [
            "How many orders over $500 did we recieve last month?",
            "How did the number of orders in Q3 stack up against Q2?",
            "Hartford customers who signed up in October - id, name and signup date please",
            "Which customers have placed more than 16 orders so far this year? Give me their ids and order counts.",
            "customer 4821 - lifetime spend and number of orders",
            "revenue of order #419365",
            "I'd like the average selling price - revenue divided by units sold - for each Electronics subcategory "
            "this year.",
            "How many unique shoppers did our Texas stores have in 2025?",
            "revenue from Texas customers by store in 2025",
            "revenue by region in 2025, one line per region",
            "figure out revenue by region in 2025",
        ],
        "'profitable' is gross margin; 'which of our stores … the most' is one; 'the smallest and the largest' are two "
        "aggregates; 'count by' groups": [
            "which 10 custmers were the most profitable for us in 2025?",
            "Which of our physical stores brought in the most money last year?",
            "For returns in 2025, what were the smallest and the largest refund for each return reason?",
            "order count by region in 2025",
        ],
        "'by customers who …' after a verb and its time names who; 'for every segment other than' is all but one, "
        "together; 'top-grossing', 'pulled in the most money'": [
            "numbr of orders placed this year by customers who signed up during 2025",
            "orders placed in 2025 by customers in Utah",
            "revenue by customer region this year for every segment other than Consumer",
            "what was our top-grossing physical shop last quarter?",
            "Which Electronics product pulled in the most money last month?",
        ],
        "a figure per member, aggregated over the members; 'to date' needs no range; written-out days": [
            "median order total in September",
            "average order total by channel in Q3",
            "median revenue per order by channel in Q3",
            "average number of orders per customer in 2025",
            "average orders per customer in 2025",
            "revenue before 1 June 2026",
            "orders from June 1, 2026 to June 15, 2026",
            "revenue to date by channel",
            "what was the median order value in Q3 2026?",
            "largest order value last month",
            "what is the maximum number of lines on a single order placed in 2025?",
            "largest single refund on a return last quarter?",
            "number of orders over $1,000 this year",
            "What's the largest single refund we've paid out this year?",
            "no. of different products that got returned last quarter",
            "Electronics compared with Home - how many units did each sell last year?",
            "hey, how does average order value stack up for Consumer versus Corporate customers this year?",
        ],
        "spoken arithmetic reads left to right; definitions built on definitions; 'in total'; 'calendar year'": [
            "margin rate by category, where margin rate is revenue minus cost divided by revenue",
            "net per order, where net is revenue minus refunds and net per order is net divided by orders",
            "net per order, where net per order is net divided by orders, and net is revenue minus refunds",
            "how much revenue in total did we book during calendar year 2025?",
            "How many units have we sold this year if you leave out Grocery?",
            "largest individual refund we paid out last month - which return was it?",
            "For the stores that opened in 2022, what's each one's revenue so far this year?",
            "How did online compare with in-store in Q3 2026 on number of orders and average order value?",
            "What is the total amount of refunds by return reason in 2025?",
            "How many orders per store in 2025? Leave out stores with no orders.",
            "For each store, return the store name and revenue in 2025",
        ],
        "a verb between other things and a time dates those things; 'X first' sorts every row; lists of aggregates": [
            "refunds on orders placed in December 2025",
            "how much did we refund on orders that were placed in december 2025?",
            "list the 5 cheapest products",
            "list our phones with name and list price, most expensive first",
            "min, max and median refund in Q2 2026",
            "min / max / median refund for returns marked Damaged, Q2 2026",
            "what % of orders were placed online last quarter",
            "new customers in H1 2026 compared with H1 2025",
            "revenue between March and May this year compared with the same months last year",
            "revenue in the last quarter of 2025",
            "revenue in the final half of last year",
            "revenue in summer (June, July and August)",
            "which region do our customers live in? top 2 regions by revenue in 2025",
            "which region do our biggest customers live in?",
            "top 5 busiest stores",
            "what was our busiest day last month",
            "orders over $500 by month in 2025",
            "customers who spent more than $5,000 in 2025 by region",
            "how many orders were over $1,000 last month",
            "order lines with at least a 10% discount in September",
            "best selling brands in Electronics",
            "the 3 best selling categories in 2025",
        ],
        "comparisons opened by 'compare', and exclusions written 'outside of' / 'everything other than'": [
            "compare revenue in 2025 and 2024",
            "compare revenue between June and July 2026",
            "how many customers outside of texas (by customer state) ordered last month?",
            "revenue by category in q2 2026 for everything other than electronics",
        ],
        "a period restated in parentheses is one period": [
            "top 3 brands by revenue in summer 2025 (june-august)",
        ],
        "members with at least one of a counted figure ('had returns'), counted among that figure's rows": [
            "how many customers had returns in 2025?",
            "revenue by category, only categories that have returns",
        ],
        "members with a condition are listed unless counted; lists show the column they were tested on": [
            "customers who spent more than $5,000 in 2025",
            "number of customers who placed more than 10 orders in 2025",
            "list the products with a list price of no more than $10",
            "average unit price across order lines in Q1 2026",
            "Which 3 physical stores had the highest AOV in summer 2025?",
            "whcih physical store had the most returns last year?",
        ],
        "a figure in the plural after a superlative ranks members; 'for all X except Y' is one total": [
            "Which product category had the largest refunds last year?",
            "Total refunds last year for all return reasons except Changed mind",
        ],
        "counts past values that narrow the counted ('how many Texas customers placed orders')": [
            "how many Texas customers placed orders in 2025",
            "How many non-Consumer customers ordered from us last quarter?",
            "Which 5 physical stores brought in the most revenue in the first half of 2026?",
        ],
        "definitions that open the question ('X = A / B, for each …'), with a constant; a grain closing a list": [
            "gross margin rate by category = gross margin / revenue * 100",
            "revenue by category and year",
        ],
        "a phrasing means the figure where the column's table has no link ('how much did customers spend')": [
            "how much did customers in Ohio spend in 2025",
            "who's our largest customer of all time by spend?",
            "show me units sold by product category, leaving out Grocery",
            "How did Miami #3 do against Miami #4 on units sold this year?",
        ],
        "'at least one item' after a verb whose rows are counted": [
            "How many unique customers returned at least one item last quarter?",
        ],
        "the biggest member is the one with the most revenue (a phrasing of the model)": [
            "biggest single order in 2025",
        ],
        "a length of time defined in the question as one date minus another": [
            "average return lag by category, where return lag is return date minus order date",
        ],
        "an aggregate of the days between two dates of each row": [
            "average number of days from order date to return date in 2025",
            "average days between signup date and order date by channel",
        ],
        "a condition on members with a period between them and the condition; two aggregates of one column": [
            "how many orders in 2025 had more than 5 lines?",
            "what's the lowest and highest unit cost among our laptops?",
        ],
        "sorting keeps every row; a natural order adds nothing": [
            "revenue by category sorted by revenue",
            "revenue by month in 2025 in chronological order",
        ],
        "regression (questions of the first planner)": [
            "revenue by month in 2025",
            "top 10 customers by revenue",
            "revenue and orders by channel last quarter",
            "revnue by region",
            "rev by cust segment",
            "orders in Texas",
            "revenue in TX by month",
            "revenue minus cost by category",
            "revenue per order by month",
            "sum of revenue and refunds",
            "which state had the most orders",
            "worst 5 products by return rate",
            "gross margin % by brand this year",
            "revenue vs last year by region",
            "revenue share of total by category",
            "average order value in California and Texas",
            "online orders in 2025",
            "revenue excluding Online",
            "marketing spend by marketing channel",
            "roas by month in 2025",
            "units sold with discount over 10%",
            "how many customers in the West",
            "What were total sales in Q3 2025?",
            "new customers per week in the last 30 days",
            "aov by segment YTD",
            "refunds by return reason last month",
            "returns by reason between March and May",
            "revenue growth by quarter in 2025",
            "daily orders in the last 2 weeks",
            "orders by day of week",
            "revenue by hour",
            "top 3 categories by gross margin in 2024",
            "customers by region",
            "repeat rate by month this year",
            "revenue for Electronics and Home by month",
            "cogs by category in 2024",
            "qty by brand",
            "pct returned by category",
            "revenue yoy by quarter in 2025",
            "revenue in the first quarter",
            "revenue in the second half of the year",
            "revenue in July",
            "revenue since 2024 by quarter",
            "revenue 2024 vs 2025",
            "lowest 3 regions by revenue in 2025",
            "margin by channel and region",
            "turnover in Califronia",
            "signups by month in 2025",
            "revenue per customer by segment",
            "marketing spend per month",
            "revenue for Peakform",
            "returns in Texas last year",
            "revenue by sku name in the Sports category",
            "Show me the gross profit for Corporate customers MTD",
            "What share of revenue comes from each channel?",
            "difference between gross sales and revenue by month",
            "How much revenue did we make last year?",
            "best month for revenue",
            "which month had the most orders",
            "busiest day of the week for orders",
            "revenue / orders by month",
            "orders by store",
            "orders in store",
            "revenue in the south region last quarter",
            "revenue, orders and customers by month this year",
            "Revenue by state for 2025 Q1",
            "What's the AOV?",
            "gross margin for the Lumen brand in 2025",
            "marketing spend by channel in 2025",
            "year to date revenue by month in 2026",
            "revenue and orders by month this year",
            "how many stores",
        ],
        "entities grouped by key, shown by label": [
            "top 10 customers by revenue last quarter",
            "top 5 customers by number of orders in 2025",
            "top 3 stores by orders in 2025",
        ],
        "a column of numbers per group": [
            "qty by brand",
            "quantity by category in 2025",
        ],
        "distinct members counted over rows that have a date": [
            "how many distinct brands were sold last quarter",
            "number of distinct products sold by month in 2025",
        ],
        "the subject of a verb is not a second count": [
            "how many orders did customers in Ohio place last year",
        ],
        "which + narrowing words + members": [
            "which Corporate customers had the most revenue last quarter",
            "which physical stores had the most returns in 2025",
        ],
        "a definition whose figures repeat the question's period, with verbs": [
            "refund share for last quarter, i.e. refunds paid last quarter divided by revenue earned last quarter",
            "gross sales minus refunds in 2025, defined as gross sales made in 2025 minus refunds paid in 2025",
        ],
        "a plural that names an entity is not a value of another column ('stores' is not 'Store')": [
            "orders of stores in Ohio in 2025",
        ],
        "'online orders' after a preposition describes the rows, it is not a second figure": [
            "gross sales excluding online orders in 2025",
            "units sold in in-store orders by brand",
        ],
        "an unqualified column of something the question names ('per store by region': the store's)": [
            "orders per store by region in 2025",
        ],
        "members with at least one ('customers with a return')": [
            "how many customers had a return last quarter",
            "revenue from orders with a return in 2025",
        ],
        "'not from the West', 'the store with the most orders'": [
            "revenue not from the South region in 2025",
            "the brand with the most units sold last quarter",
        ],
        "days counted from Thanksgiving; 'average' before a metric that is an average": [
            "what was our revenue on Black Friday 2025",
            "average basket size by channel",
        ],
        "a negation before a light verb ('not placed online')": [
            "number of orders in 2025 not placed online",
        ],
        "the share of a part in each group ('share of orders placed online by month')": [
            "share of orders placed online by month",
            "percent of revenue from discounted lines by category",
            "what share of revenue came from the West region by year",
        ],
        "separate periods of a named date are those periods, never the span between them": [
            "revenue from customers who signed up in January or March 2025",
        ],
        "a value belongs to the entity named right before it ('customers in Ohio … stores in Texas')": [
            "orders from customers in Ohio to stores in Texas",
            "revenue of stores located in Florida and stores located in Texas in 2025",
        ],
        "members counted by a threshold on another count whose name contains theirs ('orders with > 5 lines')": [
            "how many orders had more than 5 lines",
        ],
        "one figure as a share of another ('refunds as a percentage of revenue'), never a share of the total": [
            "refunds as a percentage of revenue by category",
            "marketing spend as a share of revenue by month in 2025",
        ],
        "a length of time between two named dates ('more than 2 weeks from signup date to order date')": [
            "number of returns made more than 30 days from order date to return date",
            "revenue from orders placed more than 2 weeks from signup date to order date by region",
        ],
        "a grain asked of a named date groups by that date ('by month of signup date')": [
            "revenue by month of signup date in 2025",
        ],
        "'the sum of A and B', 'the difference between A and B' inside a definition": [
            "refund share, i.e. refunds divided by the sum of revenue and refunds",
            "margin, defined as the difference between revenue and cost",
        ],
        "a definition whose figures carry their own condition": [
            "discounted share by category, defined as revenue of discounted order lines divided by revenue",
        ],
        "one total per another ('revenue per unit sold')": [
            "gross sales per unit sold by brand in 2025",
            "refunds per return by month last quarter",
        ],
        "a phrasing listed with a value of its column": [
            "orders online vs in store in 2025",
            "in-store or online revenue last quarter",
        ],
        "members of an entity split by a grouping": [
            "products by category",
            "list products by category",
        ],
        "a verb after its subject": [
            "How much revenue did we make last year?",
        ],
        "running totals to date": [
            "year to date revenue by month in 2026",
            "revenue by month ytd",
        ],
        "distinct members over the verb's rows": [
            "how many customers bought Beauty products",
            "number of custmers who ordered in 2025",
            "customers who bought Beauty products in 2025 by region",
        ],
        "per member with another grouping": [
            "revenue per order line by product category in 2025",
            "units per order by channel in 2025",
        ],
        "time phrase prepositions": [
            "daily orders over the last 7 days",
            "revenue across 2025 by quarter",
        ],
        "a value describing the metric's subject": [
            "gross profit for Corporate customers in 2025",
        ],
        "'to date', 'so far', 'all time': every day recorded (no range), unless another phrase names the period": [
            "total spend to date from customers who signed up in march 2026",
            "orders by month so far",
            "revenue in 2025 to date",
        ],
        "a verb and its particle around the thing moved ('sent something back'), and particles of light verbs": [
            "how many customers sent something back last quarter",
            "how much was paid out in refunds last month",
        ],
        "'cheapest and most expensive' of one column: both aggregates, once each": [
            "cheapest and most expensive list price by category",
        ],
        "a superlative before a column of words ranks its members; a maximum of names means nothing": [
            "most expensive category by average list price",
        ],
        "a ranking word that starts a phrasing of the model ('best selling') ranks by that phrasing's figure": [
            "5 best selling products in september",
            "best-selling product last year",
        ],
        "'how many' of an amount column counts the rows that hold the amounts, not distinct amounts": [
            "how many refunds over $100 last month",
        ],
        "an amount of money right after the things it sizes: 'worth' that amount, through the model's phrasing": [
            "How many orders over $1,000 were placed last month?",
        ],
        "a definition's name before the comma when the clause opens with its grouping; 'for that X' points back": [
            "for each customer segment give me the net, meaning revenue minus refunds",
            "order value by store, i.e. revenue divided by orders for that store, last year",
        ],
    },
    "flights": {
        "a minus right before a number is its sign, never dropped": [
            "flights from LGA with a departure delay under -10 minutes",
        ],
        "a temperature in Celsius is converted to the column's Fahrenheit, offset and all": [
            "flights from EWR when the temperature was below -5 C",
        ],
        "'what share of X's flights headed to Y': the place after a verb of going is the part": [
            "what share of Newark's flights headed to Boston",
        ],
        "a value named exactly, then a noun of the model, is that value and its other spellings": [
            "JFK flights on McDonnell Douglas aircraft in June",
        ],
        "'the first <thing>' and 'the last N <things>' are the earliest and latest rows": [
            "date of the first flight to Anchorage",
            "the last 2 flights out of LGA on 2013-06-30",
        ],
        "a running total by a grain within one year is the model's year-to-date figure; 'year-to-date' hyphenated": [
            "running total of flights from EWR by month in 2013",
            "year-to-date flights to Denver, month by month",
        ],
        "days of the US calendar counted from a weekday of a month; a holiday misspelt by one letter": [
            "flights from JFK on Labor Day by carrier",
            "how many flights on Thanksgivng",
        ],
        "a figure tested against a number for each period of a grain keeps the periods that pass": [
            "Which months had a cancellation rate above 2%?",
            "Show the months where the cancellation rate topped 4%.",
        ],
        "a number before 'different <things>' tests that count for each member grouped": [
            "Which airlines flew to more than 50 different destinations?",
        ],
        "'each of the three airports' after one named airport is the three, not the one": [
            "Of the flights to Atlanta, what share left from each of the three airports?",
        ],
        "a period ranked within each period of a coarser grain: one row per finer period, top within each": [
            "which day in each month had the most flights",
            "for each quarter, which week had the most cancelled flights",
        ],
        "a count said after a comma or 'and' goes on the list of what the rows have": [
            "how many planes had 2 engines and 55 seats",
        ],
        "'as a share of the airport's total' after a value of the airport: the whole is that airport's": [
            "EWR flights by airline as a share of the airport's total",
        ],
        "a share whose part is a compared number or a place after a copula ('went to')": [
            "what fraction of flights arrived more than an hour late",
            "What share of Newark's flights went to Chicago O'Hare?",
        ],
        "a decade is its ten years, on a column of years too": [
            "how many flights were on planes built in the 1990s",
        ],
        "a change from one period to the next in the figure's unit": [
            "by how many minutes did the average departure delay change from June to July",
        ],
        "'A vs B' of an entity's names is split by the entity; 'each airline's worst' ranks within each airline": [
            "Average flight distance: Hawaiian vs Alaska",
            "Which month was each airline's worst for average departure delay?",
        ],
        "'across the <group>' groups; 'as shares' is a share of the total": [
            "split the flights across the origin airports as shares",
            "Split the total miles flown across the three origin airports as shares.",
            "For each of the three origin airports, what are its 2 busiest destinations?",
        ],
        "'the worst X a <value> flight had' is over every such flight; 'of flights' names the rows": [
            "What's the worst arrival delay a Hawaiian Airlines flight had?",
            "what's the median distance of flights out of LaGuardia?",
        ],
        "'averaged more than N' for each member: the column's average, kept where it passes": [
            "Which airlines averaged more than 10 minutes of arrival delay?",
            "Which airlines' flights out of Newark averaged more than 1,000 miles?",
            "What fraction of the year's cancellations happened in February?",
        ],
        "a period's name with a letter left out ('third quater')": [
            "Was the first quarter busier than the third quater?",
        ],
        "'how many times did <one named> <its verb>' counts its rows": [
            "how many times did United flight 1545 operate in 2013?",
        ],
        "a misspelt name that starts several values; 'each one separately'": [
            "how many Soutwest flights got scrubbed this year",
            "Average departure delay for Miami, Fort Lauderdale and West Palm Beach, each one separately",
        ],
        "'scheduled to leave … after 10 pm actually took off': the time is the schedule's, the verb a condition": [
            "how many flights scheduled to leave JFK after 10 pm actually took off?",
            "how many flights actually took off in May",
        ],
        "'what share of Newark's flights did United operate': the part over the whole the value narrows": [
            "What share of Newark's flights did United operate?",
            "what percentage of JFK flights were United",
        ],
        "a top N keeps members whose label is missing from the lookup table (San Juan is no row of airports)": [
            "Rank the five JFK destinations with the most total miles flown, biggest first.",
        ],
        "'all year' is the year; a condition on a count that values narrow ('fewer than 100 LaGuardia …')": [
            "Which destinations saw fewer than 100 LaGuardia departures all year?",
            "Which destinations received fewer than 100 flights from LaGuardia all year?",
        ],
        "'- show them' at the end lists the rows; 'rank the three New York airports' ranks those members": [
            "Flights scheduled to depart from LaGuardia before 6 am on July 4th - show them.",
            "Rank the three New York airports by cancellation rate, worst first.",
        ],
        "'what share of departures did JetBlue account for' at each airport: JetBlue's part of each one's": [
            "At each of the three NYC airports, what share of departures did JetBlue account for?",
        ],
        "an extreme of a summed figure over 'any single' row is the column's extreme; 'and in what year'": [
            "longest distance flown on any single flight out of LaGuardia",
            "Which planes were built before 1965, and in what year?",
        ],
        "a ranking 'from each of' the members of a list, or of the members a noun names, holds within each": [
            "What was the busiest destination from each of the three NYC airports?",
            "busiest destination from each of JFK, LGA and EWR",
            "busiest destination from each NYC airport",
        ],
        "'flown by turboprop planes' narrows, it does not split; 'despite' joins two conditions": [
            "What's the average distance of flights flown by turboprop planes?",
            "How many Delta flights got in early despite leaving late?",
        ],
        "a superlative over 'any <value> X' rows and the column after their verb is the column's extreme": [
            "What's the longest any United flight spent in the air?",
        ],
        "'inclusive' after a range read from its two ends": [
            "flights with a distance between 100 and 200 miles inclusive",
        ],
        "'but' adding one more condition ('… but were in the air for under 2 hours')": [
            "How many flights covered more than 1,000 miles but were in the air for under 2 hours?",
        ],
        "a verb apart from the rest of its phrasing, across a value: 'left LaGuardia early' departed early": [
            "How many flights left LaGuardia early in freezing weather?",
            "how many flights arrived early at Boston",
            "how many planes flew more than 1000 times in 2013",
        ],
        "a phrasing read across the ranking word inside it ('departed furthest ahead of schedule'); the rows a "
        "superlative looks over ('on a flight'); a count's name after a number lists those rows; a limit per "
        "origin": [
            "Give me the 4 flights that departed furthest ahead of schedule",
            "the 3 flights that left the furthest ahead of schedule",
            "What's the longest air time recorded on a flight to Honolulu?",
            "List the 5 LaGuardia departures with the longest arrival delays",
            "which airline had the most flights from each origin",
            "top 5 destinations per origin by number of flights",
        ],
        "a name misspelt by one edit ('Amercan', 'Newrak'); a month with two letters swapped; a figure asked 'in "
        "hours' is also given in hours; 'Thanksgiving weekend'; '28 Nov - 1 Dec'; values restated after 'i.e.'": [
            "how many Amercan flights in Marhc",
            "flights from Newrak to Boston",
            "Average air time on JFK to SFO, in hours",
            "longest departure delay in hours by airline",
            "What was the mean departure delay over Thanksgiving weekend (Nov 28 - Dec 1)?",
            "average departure delay 28 Nov - 1 Dec",
            "How many flights went from LaGuardia to Washington, i.e. DCA or IAD, in total?",
        ],
        "days written after a holiday ('over Christmas, Dec 24 to 26') are its period; 'took off' departed; a list "
        "of places in the column all its members share ('Orlando, Tampa and Fort Myers' are airport codes)": [
            "I'd like to know how many flights got cancelled over Christmas, Dec 24 to 26.",
            "How many flights took off from Newark while it was raining?",
            "From JFK, how many flights went to Orlando, Tampa and Fort Myers? Give me one number per destination.",
        ],
        "'to' before a verb is no destination ('I'd like to compare JFK versus Newark'); 'what was the longest X "
        "for each airline' is the maximum per airline; 'on or after' holds the day": [
            "I'd like to compare JFK versus Newark on average departure delay in July.",
            "What was the longest arrival delay for each airline?",
            "flights on or after 1 Dec 2013",
        ],
        "most + a condition said as a plural counts its rows; 'in hours when' a condition of the hourly weather; a "
        "list member takes its earlier members' column; 'compare' splits the list nearest it": [
            "Whcih airline had the most early arrivals in December?",
            "which origin had the fewest late departures",
            "Number of Newark departures scheduled in hours when the wind was over 20 mph?",
            "United vs Delta - average departure delay",
            "I'd like to compare Virgin America, JetBlue and Delta on average arrival delay for flights to SFO or "
            "LAX.",
        ],
        "'of the year' is this year (not the year a plane was built); a condition's verb before 'a share of its "
        "flights' is the part, each member's share ranks": [
            "What was Newark's busiest day of the year?",
            "Delta vs American: which one cancelled a bigger share of its flights?",
            "which airline cancelled the largest share of its flights",
        ],
        "'worst' of a delay is its largest; a number ranked 'by' is not a column to list; 'but' between two "
        "conditions; a comparative a row per member answers; a unit alone in parentheses": [
            "worst arrival delay at each NYC airport",
            "Show me the 3 longest flights out of Newark by time in the air",
            "How many flights left at least 90 minutes late but less than 2 hrs late?",
            "was it windier at Newark, JFK or LaGuardia in March? average wind speed for each",
            "total precipitation at LaGuardia in 2013 (inches)",
        ],
        "a share of a comparison on a number is over the rows where the number is known; a verb's part after the "
        "values that narrow the whole": [
            "what percentage of JetBlue flights were on time?",
            "what percentage of flights from JFK left late",
        ],
        "'flown by' names who flew (a filter, not a row each); a compared member takes the first one's column": [
            "Total miles flown by United, Delta or American this year",
            "flights operated by United or Delta in March",
            "Compare JetBlue's cancellation rate with Southwest's",
            "Which 3 origin-destination pairs racked up the most miles in summer 2013?",
            "Newark departures in June that got in at least 90 minutes late - how many?",
            "total number of flights Delta, United or JetBlue ran out of JFK",
            "Which 4 Newark flights spent the most time in the air? Give carrier, flight no., origin and dest.",
            "List the 5 worst arrival delays in winter 2013: carrier, flight #, date, origin, destination and the delay",
            "Delta average departure delay",
            "ExpressJet median departure delay over the winter months",
            "flights by month in the winter months of 2013",
            "flights in the winter months of 2013 and in June 2013",
            "Average seat count across Delta's flights this year",
            "Were departures more delayed in spring or in autumn? avg dep delay for each",
        ],
        "periods counted ('how many hours'), two periods set against each other, a count before a month": [
            "for how many hours was visibility at LaGuardia below 1 mile?",
            "on how many days did it rain at JFK",
            "compare the number of flights in the first half of the year with the second half",
            "compare flights in March and in April",
            "the 10 january flights with the longest air time",
        ],
        "values named as people say them, a noun restating what a value is of, codes set against each other": [
            "flights to airports in the Pacific time zone",
            "flights over 2,000 miles broken out by NYC departure airport",
            "cancellation rate jfk vs lga",
            "min and max air time JFK -> BOS",
            "How many different destinations does each of the three NYC airports serve?",
        ],
        "a condition on a figure per member, in the figure's unit ('where … was above 20 minutes')": [
            "destinations where the average arrival delay was above 20 minutes",
            "airlines whose average departure delay is over a quarter of an hour",
            "flights that left more than three quarters of an hour late",
            "what was the busiest day in July",
            "most popular route from EWR",
            "what percent of flights arrived late",
            "percentage of flights departing late by airline",
        ],
        "a pair of codes joined by a dash is from the first to the second ('the JFK-LAX route')": [
            "average air time on the JFK-LAX route",
        ],
        "the share of a part: the part's rows over the whole it belongs to, in each group": [
            "what percentage of flights from JFK were late",
            "what share of flights were cancelled in each month",
            "what share of flights were late",
        ],
        "a misspelt word that changes a number, one edit away, named in the reading": [
            "medain air time",
            "highst departure delay by carrier",
            "how mny flights in decmber",
        ],
        "ranges of days, weeks of a month and named days": [
            "how many flights were there from July 1 to July 7?",
            "flights from 1 to 7 July by origin",
            "flights in the first week of July",
            "average departure delay on Christmas Day 2013",
            "flights on Thanksgiving by carrier",
        ],
        "presence and sign of a column ('a recorded arrival delay', 'no tail number', 'a negative delay')": [
            "flights with a negative arrival delay",
            "how many flights have a recorded arrival delay",
            "flights with no tail number by origin",
            "how many flights had a departure delay of at least 90 minutes",
            "flights with an arrival delay over 60 minutes",
            "early-arrival rate by origin, i.e. flights with a negative arrival delay divided by flights with a "
            "recorded arrival delay",
        ],
        "a figure the model defines with a phrasing ('flights that departed' have a departure time)": [
            "late share by carrier, defined as flights that left more than 15 minutes late divided by flights that departed",
        ],
        "the longest / earliest of one row: the column's maximum or minimum, per group or ranking members": [
            "which airline had the longest departure delay",
            "longest arrival delay by origin in June",
            "the earliest year built of each manufacturer",
        ],
        "'per flight' restates the rows an average or a column is taken over": [
            "average arrival delay per flight by destination",
            "air time per flight by origin in July",
        ],
        "a column named beside the phrasing that tests it, and a threshold restated with its unit": [
            "flights out of JFK while the temperature was below freezing (32°F)",
        ],
        "an attribute 'of its' owner ('the name of the airline'), never a count ('the number of the flights')": [
            "average arrival delay by the name of the airline in July",
            "the number of the flights from JFK in July",
        ],
        "a count column after 'with', and an entity's word before a label": [
            "flights on planes with 2 engines by origin",
            "average departure delay by plane engine type",
        ],
        "times of day on hhmm columns, bound by the verb that names the column": [
            "flights from JFK scheduled to depart before 6:30 am",
            "how many flights actually departed between 11 pm and midnight in December",
        ],
        "a definition whose figures carry their own condition": [
            "long-haul share by origin, i.e. flights longer than 1000 miles divided by flights, in 2013",
        ],
        "a list of an entity's rows 'with code and name' (the key and label it shows)": [
            "list the origin airports with their code and name",
        ],
        "a condition on a member named by two columns": [
            "routes with fewer than 10 flights in December",
            "which routes from Newark had more than 4,000 flights",
        ],
        "members of a list typed in lower case, beside another member": [
            "united vs delta average arrival delay",
            "cancellation rate for jetblue, southwest and virgin america",
        ],
        "things named in the plural and narrowed are who did it, when another word groups": [
            "number of flights by planes made by boeing, per carrier",
        ],
        "a value named with the kind of its members, one row each; a dash between parts of a question": [
            "how many different destinations does each NYC airport fly to?",
            "united vs delta - average arrival delay",
        ],
        "an average over the rows named after 'per' / 'across'; one aggregate word for two columns": [
            "Average number of seats per flight by airline",
            "average temperature and wind speed at each of the NYC airports in July",
        ],
        "one row per member of a list ('one number per airport'); lower-case names before a verb or noun": [
            "How many flights went to SFO, LAX, SEA and PDX? One number per airport please",
            "what's the longest distance delta flew?",
            "5 jetblue flights with the biggest arrival delay",
        ],
        "who did it, narrowed ('flown by planes with …'); a negated value after a verb ('not operated by')": [
            "how many flights were flown by planes with more than 300 seats?",
            "total flights to LAX, SFO or SEA not operated by United",
        ],
        "a noun ending several names is the one the figures reach ('each of the three airports')": [
            "Give me the avg temperature in July at each of the three airports",
            "number of flights scheduled out of each airport when visibility was under 1 mile",
        ],
        "row lists ranked by a column ('the 10 worst arrival delays on flights'), a shared number": [
            "list the 10 worst arrival delays on flights out of LaGuardia",
            "the 3 United flights to SFO with the biggest arrival delay",
            "top 5 busiest routes",
        ],
        "a comparison asked in words puts the members side by side; a count shown, not rows; sound-alikes": [
            "How does Delta's average arrival delay compare with United's?",
            "show me how many JFK flights were scheduled to leave in below-freezing weather",
            "longest air time of any JFK to LAX flight?",
            "How many flights were flown on Airbus planes?",
        ],
        "a count asked after the fact; verbs of the model's phrasings in any tense": [
            "flights over 2,000 miles out of Newark - how many were there?",
            "how many flights did Envoy, ExpressJet and Endeavor cancel in February, all together?",
        ],
        "two routes compared, one row each": [
            "avg arrival delay EWR to ORD vs LGA to ORD",
        ],
        "a name never reads across a parenthesis": [
            "top 5 planes by number of flights (tail number)",
        ],
        "a figure worked out row by row, defined in the question, then combined": [
            "average of miles per minute by origin, where miles per minute is distance divided by air time",
            "median minutes per mile for JetBlue, where minutes per mile = air time divided by distance",
        ],
        "a threshold written as an amount 'of' a column ('more than 2 hours of air time')": [
            "average departure delay of flights with more than 2 hours of air time",
        ],
        "the quantity and unit of a column restated before it": [
            "median distance in miles of the flight by carrier",
            "the average temperature in degrees of the weather at JFK",
        ],
        "regression (questions of the first planner)": [
            "flights by carrier",
            "worst 5 airlines by on-time rate",
            "which carrier had the most cancellations",
            "flights from JFK",
            "flights from LaGuardia to Atlanta",
            "cancellation rate for United",
            "average departure delay by month",
            "flights longer than 1000 miles",
            "delays by origin airport in July",
            "flights to Chicago by airline",
            "on time rate by manufacturer",
            "flights by hour",
            "flights by day of week",
            "cancellations in Q1",
            "top 3 destinations by flights",
            "avg arr delay for Delta in December",
            "flights with more than 200 seats",
            "average delay when temperature below 32",
            "otp for jetblue vs last year",
            "flights from EWR to LAX last month",
            "median delay by origin",
            "cancelations from newark",
            "total distance by carrier in 2013",
            "average air time to Denver",
            "flights per week in the last 3 months",
            "monthly flights from LGA",
            "cancellation rate by month for American",
            "top 10 destinations from Newark by flights",
            "average distance by origin",
            "on-time rate by origin airport in the second half of the year",
            "flights by plane manufacturer",
            "arrival delay for BOEING planes",
            "flights by destination time zone",
            "departure delay when wind over 30",
            "cancellations by origin per month",
            "flights departing from JFK in March",
            "mean delay by hour of day",
            "share of flights by carrier",
            "cancellations per day in December",
            "average departure delay for UA and AA",
            "flights from JFK or LGA to ATL",
            "delay yoy",
            "Which airline had the lowest punctuality in Q3?",
            "How many flights went to Los Angeles Intl between June and August?",
            "flights from Kennedy by month",
            "How many flights were cancelled last month?",
            "busiest hour for departures from JFK",
            "average departure delay by weekday",
            "flights to SFO by carrier in Q4",
            "cancellation rate for flights to Chicago in January",
            "on-time percentage of Southwest",
            "typical delay at Newark",
            "number of departures by origin per quarter",
            "distance flown by United in 2013",
            "flights last quarter vs the quarter before",
            "average departure delay when precipitation is above 0",
            "ytd flights by month",
            "which airline flies the most to Atlanta",
        ],
        "ranked by a metric named after 'by'": [
            "top 3 destinations by flights",
            "top 5 destination airports by flights from JFK",
        ],
        "ranked by the verb's rows": [
            "which airline flew the least from JFK",
        ],
        "ranked by the metric of another table's column": [
            "which airline had the worst arrival delay in 2013?",
        ],
        "a grouping after a time grain": [
            "flights by month and origin",
            "cancellations by week and carrier in March",
        ],
        "place names in lower case": [
            "otp for jetblue vs last year",
            "cancelations from newark",
            "flights to chicago by airline",
        ],
        "a column of numbers per group": [
            "distance by carrier in 2013",
        ],
        "members of an entity split by a grouping": [
            "planes by manufacturer",
        ],
        "'an hour and a half', 'two and a half hours': the half added to the number": [
            "how many flights arrived more than an hour and a half late in march",
            "flights more than two and a half hours late from LGA",
        ],
        "a dash before a question word separates the parts of a question": [
            "JFK flights in May over 1,000 miles - how many were there",
        ],
        "a name written as one word that the model writes as two ('airtime')": [
            "average airtime from JFK to LAX",
        ],
        "two seasons of every year set against each other are compared, one row each": [
            "average departure delay in summer vs winter",
            "compare the number of flights in summer with winter",
            "were delays higher in summer than in winter?",
            "Were there more cancellations in June compared with July?",
            "flights in autumn vs spring by origin",
        ],
        "a ranking word next to a condition on a number's sign ranks listed rows by that number": [
            "the 10 most delayed flights",
            "which 5 flights were delayed the most",
            "Which 4 United flights in December arrived furthest ahead of schedule?",
        ],
        "a comparative in a yes-or-no question over two periods joined by 'or' compares them": [
            "Was the cancellation rate worse in spring or in the fall?",
            "did we have more flights in March or in April?",
        ],
        "'on average, how many <column>' is the column's average; 'flown by aircraft built before …' narrows": [
            "On average how many seats does an Embraer plane have?",
            "what's the average departure delay for flights flown by aircraft built before 1990?",
        ],
        "counting a unit of measure sums the column in it": [
            "How many inches of rain fell at LaGuardia in September?",
        ],
        "one unit and a comparator after it; 'month by month'": [
            "How many Newark departures were delayed by an hour and a half or more?",
            "flights from JFK delayed an hour or more in May",
            "Month by month, what was the average arrival delay on Newark to O'Hare?",
        ],
    },
}

# Questions that must be refused, each with an interpretation so far and at least one choice that plans.
UNANSWERABLE: dict[str, dict[str, list[str]]] = {
    "retail": {
        "a change 'from A to B' between periods that are not next to each other is never the range's": [
            "how did revenue change from Q1 2026 to Q3 2026",
        ],
        "'what they list for': a verb with its own subject is no command to list": [
            "Show me the Hearth & Co decor products and what they list for",
        ],
        "parenthesised arithmetic that is not a formula alone is never read two names at a time": [
            "revenue in 2025 and gross sales / (gross sales + revenue)",
        ],
        "a dash after '<value> vs <value> customers' is no minus: the count of customers is no figure asked": [
            "Consumer vs Corporate customers - avg order value last quarter?",
        ],
        "an average of the products' own column over their order lines asks which weight ('of a laptop we sell')": [
            "What's the avrage catalog price of a laptop we sell?",
        ],
        "a word that runs on after a name is another word, never that name misspelt": [
            "how many storefronts are in Texas",
        ],
        "'ordered more than N times' counts orders, and an order line is not one: no count of lines instead": [
            "how many customers ordered more than 10 times in 2025",
        ],
        "a price asked with 'what … sold for'": [
            "What was on order #419365? Product, quantity and what each line sold for.",
        ],
        "a season of every year against one month of one year": [
            "revenue in summer vs june",
        ],
        "a part of one figure as a share of the same figure (the part's filter would cut the whole too)": [
            "online revenue as a share of revenue by month",
        ],
        "a count word before an amount of money": [
            "how many revenue did we get in 2025",
        ],
        "a ranking word tied to a column ('most expensive' = list price) with another figure asked": [
            "revenue of the most expensive product",
        ],
        "a size word with nothing to measure it ('big orders')": [
            "big orders in 2025",
        ],
        "an average divided by a total means nothing": [
            "average order value per unit sold by category",
        ],
        "a definition naming a period other than the question's": [
            "return cost ratio, defined as refunds paid in Q1 2025 divided by revenue in Q2 2025",
        ],
        "separate periods of a named date beside another period": [
            "revenue by month from customers who signed up in January or March 2025",
        ],
        "names the model does not have": [
            "what is the weather on mars",
            "revenue by favourite colour",
            "profit in Narnia",
            "tell me a joke",
            "marketing spend by product category",
            "return rate by reason",
            "top customers",
        ],
        "a column of numbers with no way to combine it": [
            "unit price by brand",
        ],
        "per member, both readings common": [
            "sales per store",
        ],
        "a split of nothing": [
            "by region in 2025",
        ],
        "a name column ranked where no count of its rows reaches the groups": [
            "top category in each region",
        ],
        "impossible or absurd dates": [
            "revenue on 2024-02-30",
            "revenue in the last 100000 years",
            "orders in 9999-12-31",
        ],
        "SQL written into a question": [
            "revenue; drop table orders",
            "orders where 1=1",
            "orders in 'West' OR 1=1",
        ],
    },
    "flights": {
        "values named with no figure about them ('A vs B' alone) ask for nothing the plan could show": [
            "LaGuardia vs Newark",
        ],
        "a running total over more than one year, where the model's figure restarts each year": [
            "running total of flights by day",
        ],
        "a share of members ('what share of airlines') that a test of their figure picks out counts members": [
            "what share of airlines had more than 10000 flights",
        ],
        "a rate tested against a percent with no members or periods to test (never another percent column)": [
            "cancellation rate above 3%",
        ],
        "a figure 'of' another figure ('average hours of departure delay') is one figure said in two parts": [
            "average hours of departure delay",
        ],
        "a condition held on 'days when', of hourly readings": [
            "how many flights left JFK on days when it was raining",
        ],
        "'this winter' said in December: the winter this year began in, or the one that began this month": [
            "flights this winter",
        ],
        "'more delayed' with no figure of the delay named": [
            "were flights more delayed in spring or autumn",
        ],
        "separate months set against a previous period (no one span to shift)": [
            "flights in December, January and February 2013 vs previous period",
        ],
        "days counted beside a figure: the days the figure holds on, or every day?": [
            "how many days in December had flights cancelled",
        ],
        "'how many hours of delay' is an amount of time, never how many different hours of the day": [
            "how many hours of delay did United have",
        ],
        "a doubtful value ('Texas' inside airport names) is no sign of what a noun before it means": [
            "how many flights to airports in Texas",
        ],
        "an average of the planes' column over flights: each plane once, or per flight?": [
            "What's the average seat count of the planes that flew for JetBlue?",
        ],
        "a noun that ends several names the figures all reach": [
            "number of flights by airport",
        ],
        "two routes with no end in common": [
            "flights JFK to LAX vs EWR to SFO",
        ],
        "a figure worked out row by row with no way to combine the rows": [
            "miles per minute by origin, where miles per minute is distance divided by air time",
        ],
        "one word of a path-like value names no value ('Pacific' is not 'Pacific/Honolulu')": [
            "average arrival delay of flights to the Pacific zone",
        ],
        "a unit of another kind than the answer's ('delay in miles')": [
            "average departure delay in miles",
        ],
        "a misspelt function word is never corrected into meaning ('pilot' is not 'plot')": [
            "flights by pilot",
        ],
        "an ordinal is never read as a name ('first' is not 'frost')": [
            "flights in the first hour of July",
        ],
        "'with an air time': recorded, or above zero?": [
            "how many flights have an air time",
        ],
        "a figure of a definition with a verb but no condition ('flights that flew' may exclude cancelled ones)": [
            "late share by carrier, defined as flights that left more than 15 minutes late divided by flights that flew",
        ],
        "a time of day with no column named (scheduled or actual departure?)": [
            "flights leaving LaGuardia after 9 pm",
        ],
        "names the model does not have": [
            "what is the weather on mars",
            "flights by favourite colour",
            "how many pilots",
            "flights to Gotham City",
            "top 5 airports by departures",
        ],
        "a column of other rows that does not say how to rank": [
            "which airline had the biggest departure delay",
        ],
        "a name given nothing to do": [
            "flights in March and origin",
        ],
        "a lower-case word inside several names": [
            "flights from pilot",
        ],
        "a column of numbers with no way to combine it": [
            "seats by manufacturer",
        ],
        "an empty question": [
            "",
        ],
    },
}


@cache
def layer_of(ws: str) -> SemanticLayer:
    """The shipped semantic model of a demo workspace."""
    return load_semantic_model([REPO / "semantic_models" / ws])


@cache
def values_of(ws: str) -> ValueIndex:
    """The value-index snapshot of a demo workspace (kept honest by test_value_index.py)."""
    data = json.loads((GOLDEN / f"{ws}_values.json").read_text(encoding="utf-8"))
    data["version"] = layer_of(ws).version_hash  # the snapshot's values do not depend on the model's wording
    return ValueIndex.from_dict(data)


@cache
def planner_of(ws: str) -> RulePlanner:
    return RulePlanner(layer_of(ws), values_of(ws), TODAY[ws])


def plan_data(plan: QueryPlan) -> dict[str, Any]:
    data = plan.to_dict()
    data.pop("evidence", None)
    return data


def _golden_path(ws: str) -> Path:
    return GOLDEN / f"{ws}.json"


def _check_golden(ws: str, question: str, actual: dict[str, Any]) -> None:
    path = _golden_path(ws)
    golden = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if REWRITE:
        golden[question] = actual
        path.write_text(
            json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return
    assert question in golden, f"no golden plan for {question!r}; run with DATATRUTH_REWRITE_GOLDEN=1"
    assert actual == golden[question]


CASES = [(ws, q) for ws, classes in QUESTIONS.items() for qs in classes.values() for q in qs]
REFUSALS = [(ws, q) for ws, classes in UNANSWERABLE.items() for qs in classes.values() for q in qs]


def test_enough_questions_per_workspace() -> None:
    for ws in QUESTIONS:
        assert len({q for w, q in CASES if w == ws}) >= 60 and len({q for w, q in REFUSALS if w == ws}) >= 8


@pytest.mark.parametrize(("ws", "question"), CASES, ids=[f"{w}:{q}" for w, q in CASES])
def test_golden_plan_and_reading(ws: str, question: str) -> None:
    planner = planner_of(ws)
    plan = planner.plan(question)
    reading = interpretation_of(plan, planner.layer)
    _check_golden(ws, question, {"plan": plan_data(plan), "interpretation": reading})
    compile_plan(plan, layer_of(ws), "duckdb")  # the plan is one the compiler accepts
    assert "__" not in reading, "the reading uses labels, never internal names"


@pytest.mark.parametrize(("ws", "question"), CASES, ids=[f"{w}:{q}" for w, q in CASES])
def test_every_choice_has_evidence(ws: str, question: str) -> None:
    plan = planner_of(ws).plan(question)
    targets = {(e.kind, e.target) for e in plan.evidence}
    assert all(0.0 <= e.score <= 1.0 and e.method for e in plan.evidence)
    for metric in plan.metrics:
        assert ("metric", metric) in targets or any(k == "metric" for k, _ in targets)
    if plan.adhoc_metrics:
        assert any(k == "metric" for k, _ in targets)
    if plan.time_range is not None:
        assert any(k == "time" for k, _ in targets)


@pytest.mark.parametrize(("ws", "question"), REFUSALS, ids=[f"{w}:{q[:60]}" for w, q in REFUSALS])
def test_unanswerable_questions_are_refused_with_a_reading_and_choices(ws: str, question: str) -> None:
    planner = planner_of(ws)
    with pytest.raises(PlanningError) as info:
        planner.plan(question)
    err = info.value
    assert err.message and err.interpretation, "a refusal says what was understood (or that nothing was)"
    assert err.choices, "a refusal offers at least one question that can be answered"
    for choice in err.choices:
        planner.plan(choice)  # every choice offered plans
    _check_golden(
        f"{ws}_refusals",
        question,
        {
            "message": err.message,
            "interpretation": err.interpretation,
            "choices": err.choices,
            "unmatched": err.unmatched,
        },
    )


def test_an_over_long_question_is_refused_before_it_is_read() -> None:
    question = "revenue by region and " * 2000  # 44 KB
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan(question)
    assert "characters long" in info.value.message and str(MAX_QUESTION_CHARS) in info.value.message
    assert info.value.choices and all(len(c) <= 120 for c in info.value.choices)  # short questions to click


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("revenue on 2024-02-30", "not a date of the calendar"),
        ("revenue in the last 100000 years", "before 1900"),
    ],
)
def test_absurd_dates_are_named(question: str, says: str) -> None:
    with pytest.raises(PlanningError, match=says):
        planner_of("retail").plan(question)


def test_never_guesses_a_metric() -> None:
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan("by region in 2025")
    assert "names none" in info.value.message
    layer = planner_of("retail").layer
    assert info.value.choices and all(c.endswith("by region in 2025") for c in info.value.choices)
    assert all(
        any(c.startswith((m.label or m.name).lower()) for m in layer.metrics) for c in info.value.choices
    )


def test_unknown_grouping_names_the_words_and_nearest_dimensions() -> None:
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan("revenue by regoin size")
    assert info.value.unmatched == ["size"] or "size" in info.value.unmatched


def test_typo_abbreviation_and_phonetic_are_reported_as_such() -> None:
    plan = planner_of("retail").plan("revnue by cust segmint")
    methods: dict[str, set[str]] = {}
    for e in plan.evidence:
        methods.setdefault(e.target, set()).add(e.method)
    assert plan.metrics == ("revenue",) and "fuzzy" in methods["revenue"]
    assert [d.name for d in plan.dimensions] == ["customer__segment"]
    assert methods["customer__segment"] & {"abbreviation", "corrected", "fuzzy"}
    assert "reading 'revnue' as revenue" in interpretation_of(plan, planner_of("retail").layer)


def test_learned_synonym_is_used() -> None:
    layer = layer_of("retail")
    learned = [LearnedSynonym("bananas", "metric", "revenue", "ana")]
    plan = plan_question(
        "bananas by region", layer, today=TODAY["retail"], value_index=values_of("retail"), synonyms=learned
    )
    assert plan.metrics == ("revenue",)
    assert any(e.method == "learned" for e in plan.evidence)
    with pytest.raises(PlanningError):
        plan_question("bananas by region", layer, today=TODAY["retail"], value_index=values_of("retail"))


def test_a_number_with_a_unit_becomes_a_condition_on_the_column_of_that_unit() -> None:
    plan = planner_of("flights").plan("flights longer than 1000 miles")
    assert plan.filters == (Filter("flight__distance", ">", (1000,)),)


def test_a_comparison_without_periods_compares_the_year_so_far_with_a_year_earlier() -> None:
    plan = planner_of("retail").plan("revenue vs last year")
    assert [(p.start, p.end) for p in plan.periods] == [
        (dt.date(2026, 1, 1), dt.date(2026, 11, 1)),
        (dt.date(2025, 1, 1), dt.date(2025, 11, 1)),
    ]


@pytest.mark.parametrize(
    ("ws", "word", "becomes", "method"),
    [
        ("retail", "revenew", "revenue", "fuzzy"),
        ("retail", "chanel", "channel", "fuzzy"),
        ("retail", "catagory", "category", "fuzzy"),
        ("retail", "cust", "customer", "abbreviation"),
        ("retail", "rev", "revenue", "abbreviation"),
        ("retail", "brnd", "brand", "abbreviation"),
        ("flights", "dilay", "delay", "phonetic"),
        ("flights", "destinashun", "destination", "phonetic"),
        ("flights", "cancelation", "cancellation", "fuzzy"),
        ("flights", "carier", "carrier", "fuzzy"),
    ],
)
def test_word_corrections(ws: str, word: str, becomes: str, method: str) -> None:
    fix = planner_of(ws).vocabulary.correct(word)
    assert fix is not None and (fix.becomes, fix.method) == (becomes, method)
    assert 0 < fix.score < 1


@pytest.mark.parametrize("word", ["the", "by", "texas", "weather", "mars", "revenue", "in"])
def test_known_or_unrelated_words_are_not_corrected(word: str) -> None:
    assert planner_of("retail").vocabulary.correct(word) is None


@pytest.mark.parametrize(("ws", "word"), [("retail", "depart"), ("retail", "market"), ("flights", "perform")])
def test_a_word_that_stops_where_a_suffix_starts_is_no_shorthand(ws: str, word: str) -> None:
    # "depart" is a verb of its own, not "department" cut short
    assert planner_of(ws).vocabulary.correct(word) is None


def test_normalisation() -> None:
    from datatruth.ask.vocabulary import normalize, split_words

    assert normalize("Customer_Regions") == "customer region"
    assert normalize("What's the AOV by categories?") == "what the aov by category"
    words = split_words("revenue / orders for O'Hare")
    assert [w.raw for w in words] == ["revenue", "/", "orders", "for", "OHare"]
    assert words[2].start == 10 and words[2].end == 16
    # a minus before a number is its sign; between digits, or alone between words, it is a dash
    said = split_words("delay below -30 minutes (-5) on 2013-06-30, 10-20, Nov 28 - Dec 1")
    assert [w.raw for w in said] == [
        *("delay", "below", "-30", "minutes", "-5", "on", "2013", "06", "30", "10", "20"),
        *("Nov", "28", "-", "Dec", "1"),
    ]


_ENTITY_LAYER = """
semantic_models:
  - name: policy
    table: policy
    entities: [{name: policy, type: primary, expr: policy_id}]
    dimensions: [{name: policy_number, type: categorical}, {name: status_code, type: categorical}]
    measures: [{name: policy_count, agg: count}]
  - name: claim
    table: claim
    entities: [{name: claim_identifier, type: primary}, {name: policy, type: foreign, expr: policy_id}]
    dimensions: [{name: company_claim_number, type: categorical}]
    measures: [{name: claim_total, agg: sum, expr: amount}]
  - name: flight
    table: flights
    entities: [{name: flight, type: primary, expr: flight_id}]
    dimensions: [{name: flight_number, type: categorical}]
    measures: [{name: flight_count, agg: count}]
metrics:
  - {name: number_of_policies, type: simple, measure: policy_count}
  - {name: claim_total, type: simple, measure: claim_total}
  - {name: flight_count, type: simple, measure: flight_count, synonyms: [flights]}
"""


@pytest.mark.parametrize(
    ("phrase", "entity"),
    [
        (
            "policy",
            "policy",
        ),  # a plain entity name is the entity (grouped by key, shown by its number column)
        ("claim", "claim_identifier"),  # as is an `_identifier` entity
        ("flight", "flight"),  # "flights" also names a metric: both readings are kept, assembly decides
    ],
)
def test_entity_words_name_their_entity(phrase: str, entity: str) -> None:
    from datatruth.ask.vocabulary import build_vocabulary
    from datatruth.semantic.model import parse_semantic_text

    vocabulary = build_vocabulary(parse_semantic_text(_ENTITY_LAYER, "entities.yaml"))
    assert [t.target for t in vocabulary.lookup(phrase) if t.source == "name" and t.kind == "entity"] == [
        entity
    ]
