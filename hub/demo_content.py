"""What the demo tenant holds on a first run, so that every screen shows the product: tickets in
every status, category and priority with conversations and internal notes (one SLA breached, one
at risk, one rated), help-centre articles in three sections, macros, SLA policies with business
hours, and a rule. Everything is written through the services, as people would have written it,
with the clock set back for the older tickets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core import clock
from core.automation import macro_admin, rule_admin
from core.kb.articles import ArticleFields, create_article
from core.permissions import Actor
from core.services.comments import add_comment
from core.services.tickets import Changes, create_ticket, update_ticket
from core.sla import policies
from hub.context import Hub

OFFICE_HOURS = {
    "timezone": "Europe/Berlin",
    "hours": {
        day: [["08:00", "12:30"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
    },
    "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"],
}
# The status path from New to each status, through allowed transitions.
PATHS = {
    "New": [],
    "Open": ["Open"],
    "In Progress": ["In Progress"],
    "Pending": ["In Progress", "Pending"],
    "Resolved": ["In Progress", "Resolved"],
    "Closed": ["In Progress", "Resolved", "Closed"],
    "Reopened": ["In Progress", "Resolved", "Reopened"],
}


@dataclass(frozen=True)
class DemoTicket:
    subject: str
    description: str
    category: str
    priority: str
    status: str
    age_hours: float
    reply: str = ""
    note: str = ""
    answer: str = ""
    rating: int | None = None


TICKETS = (
    DemoTicket(
        "Payment gateway returns 502 for every checkout",
        "Since 09:10 every card payment fails with a 502 from the gateway. Customers cannot buy.",
        "Technical Issue",
        "Critical",
        "In Progress",
        26,
        reply="We are on it: the gateway team is paged. Next update within the hour.",
        note="Gateway vendor confirms an outage in eu-west; ticket PAY-4411 on their side.",
    ),
    DemoTicket(
        "VPN drops every few minutes",
        "The VPN disconnects every 5-10 minutes since yesterday's update, on Windows 11.",
        "Technical Issue",
        "High",
        "Open",
        7,
        reply="Thanks: which VPN client version do you have (Help > About)?",
        note="Three reports this morning, all on client 5.2; maybe the new keep-alive setting.",
    ),
    DemoTicket(
        "Cannot sign in after the password change",
        "I changed my password this morning and now the portal says my account is locked.",
        "Access",
        "High",
        "Resolved",
        30,
        reply="Your account is unlocked; sign in with your new password.",
        answer="Works again, thank you!",
        rating=5,
    ),
    DemoTicket(
        "Invoice 2026-114 charged twice",
        "Our card was charged twice for invoice 2026-114 (2 x 1,250 EUR).",
        "Billing",
        "High",
        "Pending",
        20,
        reply="The second charge is refunded; please confirm when it shows on your statement.",
        note="Refund R-889 issued in the billing console.",
    ),
    DemoTicket(
        "New starter needs access on Monday",
        "Maria Schmidt starts on Monday in Finance: she needs a laptop, mail and the ERP.",
        "Onboarding",
        "Medium",
        "New",
        1,
    ),
    DemoTicket(
        "Export the dashboard as PDF",
        "It would help our board meetings to export the dashboard as a PDF with the charts.",
        "Feature Request",
        "Low",
        "Open",
        50,
        reply="Thanks for the idea: it is on the product board for next quarter.",
    ),
    DemoTicket(
        "Suspicious login from an unknown country",
        "I got a mail about a sign-in from a country I have never been to.",
        "Security",
        "Critical",
        "Closed",
        72,
        reply="We ended all sessions and reset your password; two-factor is now required.",
        note="Source IP on the blocklist; reported to the security team.",
        answer="Thanks, I have set up two-factor.",
    ),
    DemoTicket(
        "Printer on floor 3 prints blank pages",
        "The printer by the kitchen on floor 3 only prints blank pages since Friday.",
        "Other",
        "Low",
        "Reopened",
        90,
        reply="The toner was replaced; it should print again.",
        answer="It worked for a day, now the pages are blank again.",
    ),
    DemoTicket(
        "Add my colleague to the support portal",
        "Please give my colleague Jonas access to our company's tickets.",
        "Access",
        "Medium",
        "In Progress",
        4,
        reply="We are adding Jonas now; he will get an invitation mail.",
    ),
    DemoTicket(
        "Mail to the sales list bounces",
        "Mail to sales@ bounces with 550 5.1.1 since this morning.",
        "Technical Issue",
        "High",
        "New",
        3.3,
    ),
    DemoTicket(
        "Change the billing address",
        "Our company moved: the new address is Hafenstrasse 12, 20457 Hamburg.",
        "Billing",
        "Low",
        "Resolved",
        100,
        reply="Done: the next invoice goes to the new address.",
        rating=4,
    ),
    DemoTicket(
        "Training for the new ticket form",
        "Could someone show our team the new ticket form? 30 minutes would do.",
        "Onboarding",
        "Low",
        "Pending",
        40,
        reply="Would Thursday at 10:00 suit you?",
    ),
    DemoTicket(
        "Two-factor codes are not accepted",
        "The codes from my authenticator app are always refused.",
        "Access",
        "Medium",
        "Open",
        3,
        note="Likely a clock skew on the phone; ask them to sync the time.",
    ),
    DemoTicket(
        "Dark mode for the portal",
        "A dark mode would be easier on the eyes in the evening.",
        "Feature Request",
        "Low",
        "Closed",
        200,
        reply="Thank you: we have noted it for the design team.",
    ),
    DemoTicket(
        "Slow search in the customer list",
        "Searching the customer list takes 20 seconds since the last release.",
        "Technical Issue",
        "Medium",
        "In Progress",
        10,
        reply="We can reproduce it and are working on a fix.",
        note="Reproduced: missing index after the migration; fix in review.",
    ),
)

ARTICLES = (
    (
        "Getting started",
        "Open your first ticket",
        "Sign in, choose **New ticket**, describe the problem and send. You get a mail with the "
        "ticket number; reply to that mail to add information.",
    ),
    (
        "Getting started",
        "Follow your tickets",
        "**My tickets** lists every ticket you opened with its status. *Pending* means we wait for "
        "your answer; *Resolved* means we think it is solved: reply if it is not.",
    ),
    (
        "Getting started",
        "Attach screenshots and files",
        "Add files to the ticket form or to a reply: up to 10 files of 25 MB each.",
    ),
    (
        "Getting started",
        "What the statuses mean",
        "- **New**: not looked at yet\n- **Open**: an agent has it\n- **Pending**: we wait for you"
        "\n- **Resolved**: solved, you may reopen it\n- **Closed**: done",
    ),
    (
        "Account and access",
        "Reset a forgotten password",
        "On the sign-in page choose **Forgot your password?**, enter your address and follow the "
        "link in the mail within an hour.",
    ),
    (
        "Account and access",
        "Set up two-factor sign-in",
        "Open **My account**, choose **Two-factor sign-in** and scan the code with an authenticator "
        "app. Keep the recovery codes somewhere safe.",
    ),
    (
        "Account and access",
        "My two-factor codes are refused",
        "Codes depend on the time: set your phone's clock to automatic and try again.",
    ),
    (
        "Billing",
        "Download an invoice",
        "Invoices are mailed to your billing contact each month. Ask us for a copy in a ticket with "
        "the category *Billing*.",
    ),
    (
        "Billing",
        "Change the billing address",
        "Open a *Billing* ticket with the new address; it applies from the next invoice.",
    ),
    ("Billing", "Refunds", "Refunds go back to the card that paid, within 5 to 10 working days."),
)

MACROS = (
    (
        "Ask for details",
        "Hello {requester_name},\n\nThank you for ticket #{ticket_id}. Could you tell us when it "
        "started, and send a screenshot of the message?\n\n{agent_name}",
        {"status": "Pending"},
    ),
    (
        "Solved, please confirm",
        'Hello {requester_name},\n\nWe believe "{subject}" is solved. If it is not, just reply to '
        "this message and the ticket reopens.\n\n{agent_name}",
        {"status": "Resolved"},
    ),
    (
        "Escalate to second line",
        "Handing over to the second line: reproduced, details above.",
        {"priority": "High"},
    ),
)


@contextmanager
def _set_back(hours: float) -> Iterator[None]:
    """Run with the clock ``hours`` in the past (the wall clock is restored afterwards)."""
    then = clock.now() - timedelta(hours=hours)
    start = datetime.now(then.tzinfo)
    clock.set_clock(lambda: then + (datetime.now(then.tzinfo) - start))
    try:
        yield
    finally:
        clock.set_clock(None)


def seed_content(
    session: Session, hub: Hub, admin: Actor, agent: Actor, requester: Actor
) -> dict[str, int]:
    """Write the demo content for a tenant whose admin, agent and requester are given; returns
    how many of each kind were made."""
    policies.create_policy(
        session,
        admin,
        {
            "category": None,
            "priority": "Critical",
            "response_minutes": 30,
            "resolution_minutes": 240,
            "calendar": None,
            "warning_percent": 75,
            "is_active": True,
        },
    )
    policies.create_policy(
        session,
        admin,
        {
            "category": None,
            "priority": "High",
            "response_minutes": 240,
            "resolution_minutes": 1440,
            "calendar": None,
            "warning_percent": 75,
            "is_active": True,
        },
    )
    policies.create_policy(
        session,
        admin,
        {
            "category": None,
            "priority": "Medium",
            "response_minutes": 480,
            "resolution_minutes": 2880,
            "calendar": OFFICE_HOURS,
            "warning_percent": 75,
            "is_active": True,
        },
    )
    for section, title, body in ARTICLES:
        create_article(
            session,
            agent,
            ArticleFields(title=title, body=body, category=section, status="published"),
        )
    macro_ids = [
        macro_admin.create_macro(
            session,
            admin,
            {
                "name": name,
                "body": body,
                "is_internal": name.startswith("Escalate"),
                "changes": changes,
                "is_active": True,
            },
        ).id
        for name, body, changes in MACROS
    ]
    rule_admin.create_rule(
        session,
        hub,
        admin,
        {
            "name": "Security tickets are urgent",
            "trigger": "ticket.created",
            "hours": None,
            "conditions": [{"field": "category", "op": "eq", "value": "Security"}],
            "actions": [{"type": "set_priority", "value": "Critical"}],
            "is_active": True,
            "position": 1,
        },
    )
    session.flush()
    for item in TICKETS:
        _ticket(session, item, agent, requester)
    return {
        "tickets": len(TICKETS),
        "articles": len(ARTICLES),
        "macros": len(macro_ids),
        "sla_policies": 3,
        "rules": 1,
    }


def _ticket(session: Session, item: DemoTicket, agent: Actor, requester: Actor) -> None:
    with _set_back(item.age_hours):
        ticket = create_ticket(
            session,
            requester,
            subject=item.subject,
            description=item.description,
            category=item.category,
            priority=item.priority,
        )
    step = item.age_hours / 4
    if item.status != "New":
        with _set_back(item.age_hours - step):
            update_ticket(session, agent, ticket, Changes(assigned_to=agent.user_id))
    if item.note:
        with _set_back(item.age_hours - step * 1.5):
            add_comment(session, agent, ticket, comment=item.note, is_internal=True, channel="web")
    if item.reply:
        with _set_back(item.age_hours - step * 2):
            add_comment(session, agent, ticket, comment=item.reply, channel="web")
    if item.answer and item.status != "Reopened":
        with _set_back(item.age_hours - step * 2.2):
            add_comment(session, requester, ticket, comment=item.answer, channel="web")
    for n, status in enumerate(PATHS[item.status]):
        if ticket.status == status:
            continue
        with _set_back(max(item.age_hours - step * (2.5 + n * 0.3), 0)):
            if status == "Reopened":
                if item.answer:
                    add_comment(session, requester, ticket, comment=item.answer, channel="web")
                if ticket.status != "Reopened":
                    update_ticket(session, requester, ticket, Changes(status="Reopened"))
            else:
                update_ticket(session, agent, ticket, Changes(status=status))
    if item.rating is not None:
        update_ticket(
            session,
            requester,
            ticket,
            Changes(satisfaction_rating=item.rating, feedback="Quick and friendly."),
        )
