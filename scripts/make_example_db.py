#!/usr/bin/env python3
"""Create examples/employees.db, a small SQLite database to try dbchunk on.

Usage: python3 scripts/make_example_db.py [OUTPUT]   (default: examples/employees.db)

Standard library only. The rows are deterministic (fixed random seed), so
rerunning the script gives the same data. Some rows are awkward on purpose:
NULL emails, non-ASCII names, and notes holding commas, double quotes and a
newline, so CSV/JSON quoting can be tried on them.
"""

import datetime
import os
import random
import sqlite3
import sys
import unicodedata

ROWS = 1000
SEED = 20240101

FIRST_NAMES = [
    "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry",
    "Irene", "Jack", "Karen", "Liam", "Maria", "Noah", "Olivia", "Peter",
    "Quinn", "Rachel", "Sam", "Tina", "Umar", "Vera", "Walter", "Yuki",
]
LAST_NAMES = [
    "Smith", "Jones", "Brown", "Taylor", "Wilson", "Davies", "Evans",
    "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Hall", "Clarke",
    "Green", "Baker", "Nakamura", "Okafor", "Kowalski", "Rossi",
]
# A few non-ASCII names, placed at fixed ids below.
SPECIAL_NAMES = {
    3: "Zoë Müller",
    7: "José Álvarez",
    42: "Björn Ångström",
    101: "Łukasz Żółć",
    256: "François Lefèvre",
    512: "Renée O'Brien",
    777: "山田 太郎",
    999: "Zoë Ødegaard",
}
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "Support", "HR", "Legal", "Operations"]
BASE_SALARY = {
    "Engineering": 85000, "Sales": 60000, "Marketing": 58000, "Finance": 70000,
    "Support": 45000, "HR": 52000, "Legal": 90000, "Operations": 55000,
}
PLAIN_NOTES = [
    "Works remotely",
    "Team lead",
    "On parental leave until next quarter",
    "Speaks French, German, and Spanish",
    'Prefers to be called "Sam"',
    "Mentor for new hires, interns",
    'Said: "ship it, then fix it"',
    "Part-time; Mondays, Wednesdays",
]
# Notes with a newline (and quotes) at fixed ids.
MULTILINE_NOTES = {
    5: "First line\nSecond line",
    64: 'Relocated from Berlin, "temporarily"\nReview in Q3, 2025',
    500: "Line one, with a comma\nLine \"two\" with quotes",
}
NULL_EMAIL_IDS = {4, 13, 77, 150, 333, 640, 808, 1000}

SCHEMA = """
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    department TEXT,
    salary NUMERIC,
    hired TEXT /* YYYY-MM-DD */,
    active INTEGER,
    notes TEXT
)
"""


# Letters that NFKD does not split into a base letter and an accent.
NO_DECOMPOSITION = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss"})


def email_for(name, emp_id):
    # ASCII local part: strip accents (Zoë -> zoe), drop what has no ASCII form.
    name = name.translate(NO_DECOMPOSITION)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    parts = ["".join(c for c in word.lower() if c.isalnum()) for word in ascii_name.split()]
    local = ".".join(p for p in parts if p)
    return f"{local or 'employee'}.{emp_id}@example.com"


def make_rows(rng):
    start = datetime.date(2005, 1, 1)
    span_days = (datetime.date(2024, 12, 31) - start).days
    for emp_id in range(1, ROWS + 1):
        name = SPECIAL_NAMES.get(emp_id) or f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = None if emp_id in NULL_EMAIL_IDS else email_for(name, emp_id)
        department = rng.choice(DEPARTMENTS)
        # Whole numbers and cents, as NUMERIC affinity stores them (INTEGER or REAL).
        salary = BASE_SALARY[department] + rng.randrange(-10000, 40000, 250)
        if rng.random() < 0.3:
            salary = round(salary + rng.randrange(1, 100) / 100, 2)
        hired = (start + datetime.timedelta(days=rng.randrange(span_days + 1))).isoformat()
        active = 0 if rng.random() < 0.12 else 1
        if emp_id in MULTILINE_NOTES:
            notes = MULTILINE_NOTES[emp_id]
        elif rng.random() < 0.15:
            notes = rng.choice(PLAIN_NOTES)
        else:
            notes = None
        yield (emp_id, name, email, department, salary, hired, active, notes)


def main():
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo_root, "examples", "employees.db")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)

    rng = random.Random(SEED)
    con = sqlite3.connect(out)
    try:
        with con:
            con.execute(SCHEMA)
            con.executemany("INSERT INTO employees VALUES (?, ?, ?, ?, ?, ?, ?, ?)", make_rows(rng))
        con.execute("VACUUM")
        (count,) = con.execute("SELECT count(*) FROM employees").fetchone()
    finally:
        con.close()
    print(f"wrote {out}: {count} rows, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
