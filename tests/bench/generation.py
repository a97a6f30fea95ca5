"""How much of what a description names reaches the data model the built-in generator writes.

    python -m tests.bench.generation [--verbose]

For each description below (domains the catalogues do not know), the things it names are
listed by hand; a thing reaches the model when an entity is named after it (`copy` in Copy or
BookCopy, `purchase order` in PurchaseOrder) or a field is (`due date` in due_date). The share
is over all named things of all descriptions. Offline and deterministic: no AWS, no network;
tests/unit/kiln/domain/generators/test_following.py holds the same set to a floor.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from kiln.domain.generation import ProjectBrief, SpecContent, SpecRequest
from kiln.domain.generators.builtin import BuiltinGenerator


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    named: tuple[str, ...]  # the things the description names, singular, lower case


CASES: tuple[Case, ...] = (
    Case("Shorty", "A URL shortener with custom aliases and click analytics per link", ("link", "click", "alias")),
    Case(
        "Cookbook",
        "A recipe sharing site where cooks post recipes with ingredients and steps, and others rate and review them",
        ("recipe", "cook", "ingredient", "step", "review", "rating"),
    ),
    Case(
        "Lending",
        "A library lending system: members borrow book copies with due dates and pay fines",
        ("member", "book", "copy", "due date", "fine"),
    ),
    Case(
        "Procure",
        "Purchase orders sent to suppliers, with approval by a manager before they go out.",
        ("purchase order", "supplier"),
    ),
    Case(
        "Vet",
        "A veterinary clinic's appointments and pets, with owners and vaccination records.",
        ("clinic", "appointment", "pet", "owner", "vaccination"),
    ),
    Case(
        "Fleet",
        "A fleet's vehicles and maintenance logs, with fuel costs per vehicle.",
        ("fleet", "vehicle", "maintenance log", "fuel cost"),
    ),
    Case(
        "Gym",
        "A gym app where members book fitness classes with trainers and track their workouts.",
        ("member", "class", "trainer", "workout"),
    ),
    Case(
        "Tickets",
        "An event ticketing platform: organizers create events at venues, and attendees buy tickets with seat numbers.",
        ("organizer", "event", "venue", "attendee", "ticket", "seat number"),
    ),
    Case(
        "Chores",
        "A household chore tracker where family members are assigned chores with due dates and earn points.",
        ("family member", "chore", "due date", "point"),
    ),
    Case(
        "Nursery",
        "A plant nursery inventory of plants, pots and suppliers, with stock levels per greenhouse.",
        ("plant", "pot", "supplier", "stock", "greenhouse"),
    ),
    Case(
        "School",
        "A language school where students enroll in courses, attend lessons and submit homework that teachers grade.",
        ("student", "course", "lesson", "homework", "teacher"),
    ),
    Case(
        "Bikes",
        "A bike rental service: customers rent bikes from stations and pay per hour.",
        ("customer", "bike", "station", "rental"),
    ),
    Case(
        "Casts",
        "A podcast hosting app with shows, episodes, guests and download counts per episode.",
        ("show", "episode", "guest", "download count"),
    ),
    Case(
        "Wedding",
        "A wedding planner app where couples manage guests, RSVPs, vendors and a seating chart with tables.",
        ("couple", "guest", "rsvp", "vendor", "table"),
    ),
    Case(
        "Freelance",
        "An expense tracker for freelancers: log expenses with receipts and categories, and send invoices to clients.",
        ("expense", "receipt", "category", "invoice", "client"),
    ),
    Case(
        "Walkies",
        "A dog walking marketplace where owners book walkers for walks and leave reviews.",
        ("owner", "walker", "walk", "review"),
    ),
    Case(
        "Confer",
        "A conference app with speakers, sessions in rooms, and attendees who bookmark sessions.",
        ("speaker", "session", "room", "attendee", "bookmark"),
    ),
    Case(
        "Homes",
        "A real estate listing site where agents post properties with photos and buyers schedule viewings.",
        ("agent", "property", "photo", "buyer", "viewing"),
    ),
    Case(
        "Garage",
        "A car repair shop system: customers bring cars, mechanics create work orders with parts and "
        "labor hours, and invoices are paid.",
        ("customer", "car", "mechanic", "work order", "part", "invoice"),
    ),
    Case(
        "Assets",
        "An internal IT asset register: laptops, monitors and licenses assigned to employees, with "
        "warranty expiry dates.",
        ("asset", "laptop", "monitor", "license", "employee"),
    ),
    Case(
        "FoodBank",
        "A volunteer scheduling tool for a food bank: shifts, volunteers signing up, and donations received.",
        ("volunteer", "shift", "donation"),
    ),
)


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def reached(thing: str, content: SpecContent) -> bool:
    """Whether an entity or a field of the model is named after the thing."""
    wanted = f" {thing} "
    for entity in content.entities:
        if wanted in f" {_words(entity.name)} ":
            return True
        for field in entity.fields:
            if wanted in f" {field.name.replace('_', ' ')} ":
                return True
    return False


def model_of(case: Case) -> SpecContent:
    generator = BuiltinGenerator()
    brief = ProjectBrief(case.name, case.description)
    return generator.write_spec(SpecRequest(brief, tuple(generator.clarify(brief)), {}))


def measure(verbose: bool = False) -> tuple[int, int, list[str]]:
    """(things reached, things named, the misses as "case: thing")."""
    hits, total, misses = 0, 0, []
    for case in CASES:
        content = model_of(case)
        for thing in case.named:
            total += 1
            if reached(thing, content):
                hits += 1
            else:
                misses.append(f"{case.name}: {thing}")
        if verbose:
            print(f"{case.name}: " + ", ".join(entity.name for entity in content.entities))
    return hits, total, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.generation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print each model's entities")
    args = parser.parse_args(argv)
    hits, total, misses = measure(args.verbose)
    print(f"named things reaching the data model: {hits}/{total} = {hits / total:.0%} over {len(CASES)} descriptions")
    for miss in misses:
        print(f"  missed {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
