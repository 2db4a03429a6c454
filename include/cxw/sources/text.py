"""Free text in realistic customer language: survey comments and help-desk conversations.

A comment is built from clauses, one per topic, each with a polarity; the comment's true
sentiment sign is fixed first (from the score the person gave) and most clauses follow it, with
an occasional contrasting clause ("... but ..."). Typos and pasted contact details are added at
the MessConfig rates. Every choice comes from the caller's random stream (deterministic).
"""

from __future__ import annotations

import random

from cxw.sources.people import typo

# topic -> (positive clauses, negative clauses, neutral clauses)
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "delivery": (
        (
            "delivery was super fast",
            "my package arrived a day earlier than promised",
            "shipping was quick and the tracking updates were accurate",
            "the courier was friendly and left it exactly where I asked",
            "got my order in two days, impressive",
            "fast delivery even during the holidays",
        ),
        (
            "the delivery took almost two weeks",
            "my package was late and tracking showed no updates for days",
            "the courier left the box in the rain",
            "it said delivered but nothing was at my door",
            "shipping is way too slow for what you charge",
            "the delivery date kept moving and nobody told me why",
        ),
        ("delivery took about a week which is ok", "shipping was as expected"),
    ),
    "price_billing": (
        (
            "prices are fair for the quality",
            "the discount code worked without any hassle",
            "great value for money",
            "checkout was clear about taxes and shipping",
            "billing was straightforward",
        ),
        (
            "I was charged twice for the same order",
            "the price went up right after I added it to my cart",
            "hidden fees at checkout are annoying",
            "my promo code did not apply and support could not fix it",
            "way too expensive compared to other stores",
            "the invoice amount does not match what I paid",
        ),
        ("prices are about average", "the billing statement was fine I guess"),
    ),
    "product_quality": (
        (
            "the quality is excellent",
            "it looks even better than in the photos",
            "well made and sturdy, I'm very happy with it",
            "the material feels premium",
            "works perfectly, exactly as described",
        ),
        (
            "the product broke after a week",
            "the quality is really poor for the price",
            "it does not look like the pictures at all",
            "the item arrived damaged and scratched",
            "stopped working after two uses",
            "cheap material, it feels flimsy",
        ),
        ("the product is ok, nothing special", "does the job"),
    ),
    "support_agent": (
        (
            "the agent was very helpful and patient",
            "Maria on the phone solved everything in minutes",
            "your support rep went above and beyond",
            "the chat agent was friendly and knew what she was doing",
            "customer service was excellent",
        ),
        (
            "the agent was rude and did not listen",
            "support kept giving me scripted answers",
            "the rep hung up on me",
            "nobody in support could actually solve my problem",
            "I had to explain my issue three times to different agents",
            "customer service was useless",
        ),
        ("the agent answered my question", "support was ok"),
    ),
    "wait_time": (
        (
            "I got through to someone almost immediately",
            "no waiting on hold at all",
            "the chat connected right away",
            "quick response to my email",
        ),
        (
            "I waited on hold for over 40 minutes",
            "it took three days to get a reply to my email",
            "the wait time on the phone is ridiculous",
            "I was in the chat queue forever",
            "still waiting for someone to call me back",
        ),
        ("waited a few minutes on hold", "the response time was acceptable"),
    ),
    "website_app": (
        (
            "the website is easy to navigate",
            "the app makes reordering really simple",
            "checkout on the app was smooth",
            "search on the site finds exactly what I need",
        ),
        (
            "the website kept crashing at checkout",
            "the app logs me out every time",
            "I could not find the order history on the site",
            "the payment page froze twice",
            "your app is slow and buggy",
        ),
        ("the website works", "the app is fine"),
    ),
    "returns_refunds": (
        (
            "the return process was painless",
            "I got my refund within two days",
            "free returns made it an easy decision",
            "the exchange was quick and easy",
        ),
        (
            "I am still waiting for my refund after three weeks",
            "the return label never arrived",
            "returning an item is way too complicated",
            "they refused my return even though it was within 30 days",
            "the refund was less than what I paid",
        ),
        ("the return took the usual time", "refund arrived eventually"),
    ),
    "packaging": (
        (
            "the packaging was beautiful",
            "everything was well packed and protected",
            "love the eco friendly packaging",
            "nicely wrapped, felt like a gift",
        ),
        (
            "the box was crushed when it arrived",
            "way too much plastic in the packaging",
            "the item was just thrown loose in a huge box",
            "packaging was torn open",
        ),
        ("the packaging was standard", "it came in a normal box"),
    ),
    "stock_availability": (
        (
            "everything I wanted was in stock",
            "you restocked my favourite item quickly",
            "great selection of sizes",
        ),
        (
            "the item I wanted is always out of stock",
            "it showed in stock but then my order was cancelled",
            "half my order was backordered",
            "you never have my size",
        ),
        ("some items were out of stock", "availability was ok"),
    ),
    "communication": (
        (
            "you kept me informed at every step",
            "the order confirmation and updates were clear",
            "I appreciate the proactive email about the delay",
        ),
        (
            "nobody told me my order was delayed",
            "I never received a confirmation email",
            "the emails are confusing and contradict each other",
            "too many marketing emails and none about my actual order",
            "I asked for an update and heard nothing back",
        ),
        ("I received the usual emails", "communication was fine"),
    ),
}
OPENERS_POS = (
    "",
    "",
    "Great experience overall. ",
    "Love this store! ",
    "Very happy. ",
    "Thanks! ",
)
OPENERS_NEG = (
    "",
    "",
    "Very disappointed. ",
    "Not happy. ",
    "Honestly ",
    "Ugh. ",
    "Terrible experience. ",
)
OPENERS_NEU = ("", "", "It was ok. ", "Mixed feelings. ")
CLOSERS_POS = ("", "", " Will order again.", " Keep it up!", " Highly recommend.", " 10/10")
CLOSERS_NEG = (
    "",
    "",
    " Will not order again.",
    " Please fix this.",
    " Very frustrating.",
    " I want my money back.",
    " Considering other stores now.",
)
CLOSERS_NEU = ("", "", " Could be better.", " We'll see next time.")
CONTRASTS = (" but ", ", although ", ". However ", " though ")
JOINERS = (" and ", ", ", ". Also ", " plus ")

TOPICS_BY_CONTEXT = {
    "post_purchase": (
        ("delivery", 5),
        ("product_quality", 5),
        ("packaging", 3),
        ("price_billing", 3),
        ("stock_availability", 2),
        ("website_app", 2),
        ("communication", 2),
    ),
    "post_support": (
        ("support_agent", 6),
        ("wait_time", 4),
        ("communication", 3),
        ("returns_refunds", 3),
        ("delivery", 2),
        ("price_billing", 2),
        ("product_quality", 1),
    ),
    "relationship": tuple((t, 1) for t in PHRASES),
}


def pick_topics(rt: random.Random, context: str, must: str | None = None) -> list[str]:
    """One to three distinct topics for a comment in this context (optionally including one)."""
    pool = TOPICS_BY_CONTEXT[context]
    k = rt.choices((1, 2, 3), weights=(50, 35, 15))[0]
    topics: list[str] = [must] if must else []
    names = [t for t, _ in pool]
    weights = [w for _, w in pool]
    while len(topics) < k:
        t = rt.choices(names, weights=weights)[0]
        if t not in topics:
            topics.append(t)
    return topics


def _clause(rt: random.Random, topic: str, polarity: int) -> str:
    pos, neg, neu = PHRASES[topic]
    return rt.choice(pos if polarity > 0 else neg if polarity < 0 else neu)


def compose(rt: random.Random, topics: list[str], sentiment: int) -> str:
    """Clauses for the topics; the overall sign is `sentiment` (-1, 0, +1)."""
    if sentiment == 0:  # neutral: a neutral clause, or positives and negatives that cancel
        first = rt.choice((1, -1))
        polarities = [[0], [first, -first], [first, -first, 0]][len(topics) - 1]
    else:
        polarities = [sentiment] * len(topics)
        if len(topics) >= 3 or (len(topics) == 2 and rt.random() < 0.25):
            polarities[-1] = -sentiment  # one contrasting clause, still outweighed
            if len(topics) == 2:
                polarities[-1] = 0
    parts = [_clause(rt, t, p) for t, p in zip(topics, polarities, strict=True)]
    text = parts[0]
    for k in range(1, len(parts)):
        flip = polarities[k] != polarities[k - 1]
        text += (rt.choice(CONTRASTS) if flip else rt.choice(JOINERS)) + parts[k]
    if sentiment > 0:
        opener, closer = rt.choice(OPENERS_POS), rt.choice(CLOSERS_POS)
    elif sentiment < 0:
        opener, closer = rt.choice(OPENERS_NEG), rt.choice(CLOSERS_NEG)
    else:
        opener, closer = rt.choice(OPENERS_NEU), rt.choice(CLOSERS_NEU)
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += rt.choice((".", ".", "!", ""))
    return (opener + text + closer).strip()


def add_typos(rt: random.Random, text: str) -> str:
    """One to three word-level typos plus, sometimes, lower case and lost punctuation."""
    words = text.split(" ")
    eligible = [k for k, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    for k in rt.sample(eligible, min(len(eligible), rt.randint(1, 3))):
        words[k] = typo(rt, words[k])
    out = " ".join(words)
    if rt.random() < 0.3:
        out = out.lower()
    if rt.random() < 0.3:
        out = out.replace(",", "").replace("'", "")
    if out == text:  # no word long enough: the typo is a doubled last letter
        out = text + text[-1]
    return out


def comment(
    rt: random.Random,
    topics: list[str],
    sentiment: int,
    typo_rate: float,
    pii_rate: float,
    email: str | None,
    phone: str | None,
) -> tuple[str, bool]:
    """A survey comment and whether it contains an email address or phone number."""
    text = compose(rt, topics, sentiment)
    if rt.random() < typo_rate:
        text = add_typos(rt, text)
    has_pii = False
    if rt.random() < pii_rate and (email or phone):
        if email and (not phone or rt.random() < 0.6):
            text += rt.choice(
                (f" You can reach me at {email}.", f" email me: {email}", f" ({email})")
            )
        else:
            text += rt.choice((f" Call me at {phone}.", f" my number is {phone}", f" ph {phone}"))
        has_pii = True
    return text, has_pii


# ---- help-desk conversations ----------------------------------------------------------------
SUBJECTS = {
    "delivery": (
        "Where is my order?",
        "Package not delivered",
        "Late delivery",
        "Tracking not updating",
    ),
    "price_billing": (
        "Charged twice",
        "Question about my invoice",
        "Promo code not working",
        "Billing issue",
    ),
    "product_quality": ("Item arrived damaged", "Product stopped working", "Quality complaint"),
    "support_agent": ("Complaint about previous call", "Follow-up on my case"),
    "wait_time": ("No reply yet", "Still waiting for a callback"),
    "website_app": ("Can't log in", "Checkout error", "App keeps crashing", "Website problem"),
    "returns_refunds": (
        "Return request",
        "Refund status",
        "Return label missing",
        "Exchange request",
    ),
    "packaging": ("Box arrived crushed", "Packaging issue"),
    "stock_availability": (
        "When will this be back in stock?",
        "Backordered item",
        "Order cancelled - out of stock",
    ),
    "communication": ("No confirmation email", "Update on my order?", "Unsubscribe me"),
}
CUSTOMER_OPENERS = {
    "delivery": (
        "Hi, my order {order} still hasn't arrived and tracking hasn't moved in days.",
        "Hello, tracking says delivered but I never got the package ({order}).",
        "My order {order} was supposed to arrive on Monday. Any update?",
    ),
    "price_billing": (
        "I see two charges on my card for my order {order}.",
        "My discount code was not applied to my order {order}, can you refund the difference?",
        "Can you explain the tax on my last invoice?",
    ),
    "product_quality": (
        "The item from my order {order} arrived broken.",
        "What I received in my order {order} stopped working after a few days.",
        "The product quality is not what was advertised.",
    ),
    "support_agent": (
        "I called yesterday and the agent promised a callback that never came.",
        "Following up on my previous conversation, nothing has been resolved.",
    ),
    "wait_time": (
        "I've emailed three times and nobody answers.",
        "I waited on hold for 30 minutes and got disconnected.",
    ),
    "website_app": (
        "I can't log into my account, the password reset email never comes.",
        "The checkout page gives me an error when I try to pay.",
        "The app crashes every time I open my orders.",
    ),
    "returns_refunds": (
        "I'd like to return part of my order {order}.",
        "I sent my return two weeks ago, where is my refund for my order {order}?",
        "Can I exchange the item from my order {order} for a different size?",
    ),
    "packaging": (
        "My order {order} arrived in a crushed box, one item is dented.",
        "The package was open when it arrived.",
    ),
    "stock_availability": (
        "When will the item be back in stock?",
        "My order {order} was cancelled because it was out of stock, why was it listed?",
    ),
    "communication": (
        "I never got a confirmation email for my order {order}.",
        "Can someone tell me what is happening with my order {order}?",
        "Please stop sending me marketing emails.",
    ),
}
AGENT_REPLIES_GOOD = (
    "Thanks for reaching out, {name}. I've taken care of this for you - you should see the update within 24 hours.",
    "Sorry about that, {name}! I've issued a replacement and sent you the tracking details.",
    "I've processed a refund for you. It can take 3-5 business days to show on your statement.",
    "Good news: this is fixed on our side. Let me know if there's anything else I can do.",
)
AGENT_REPLIES_BAD = (
    "Hi {name}, we're looking into this and will get back to you.",
    "Unfortunately we can't do anything further at this time.",
    "Please allow 7-10 business days for our team to review your request.",
    "I've escalated this to the relevant team.",
)
CUSTOMER_FOLLOWUPS_GOOD = (
    "Thank you so much, that was quick!",
    "Perfect, thanks for your help.",
    "Great, appreciate it.",
)
CUSTOMER_FOLLOWUPS_BAD = (
    "This is the third time I'm asking. Nothing has changed.",
    "That doesn't solve my problem at all.",
    "Still no update. Very frustrating.",
    "I want to speak to a manager.",
)
INTERNAL_NOTES = (
    "Checked carrier portal: package stuck at hub. Opened trace.",
    "Customer verified via order number and zip.",
    "Issued goodwill credit of $10.",
    "Escalated to tier 2.",
    "Refund approved by team lead.",
    "Known issue with payment provider, see incident INC-{n}.",
    "Duplicate of earlier ticket, merged notes.",
)


def ticket_subject(rt: random.Random, topic: str) -> str:
    return rt.choice(SUBJECTS[topic])


def customer_message(rt: random.Random, topic: str, order_ref: str | None, typo_rate: float) -> str:
    template = rt.choice(CUSTOMER_OPENERS[topic])
    if order_ref is None:
        template = template.replace(" ({order})", "").replace(" {order}", "")
    opener = template.format(order=order_ref)
    text = opener
    if rt.random() < 0.5:
        text += " " + _clause(rt, topic, -1).capitalize() + "."
    if rt.random() < typo_rate:
        text = add_typos(rt, text)
    return text


def agent_reply(rt: random.Random, good: bool, name: str) -> str:
    return rt.choice(AGENT_REPLIES_GOOD if good else AGENT_REPLIES_BAD).format(name=name)


def customer_followup(rt: random.Random, good: bool) -> str:
    return rt.choice(CUSTOMER_FOLLOWUPS_GOOD if good else CUSTOMER_FOLLOWUPS_BAD)


def internal_note(rt: random.Random) -> str:
    return rt.choice(INTERNAL_NOTES).format(n=rt.randint(1000, 9999))


def chat_transcript(
    rt: random.Random, opening: str, reply: str, followup: str, customer: str, agent: str
) -> str:
    """A chat transcript as the help desk stores it (speaker-prefixed lines)."""
    lines = [
        f"{agent}: Hi {customer}, thanks for contacting us! How can I help?",
        f"{customer}: {opening}",
        f"{agent}: Let me check that for you, one moment please.",
        f"{agent}: {reply}",
        f"{customer}: {followup}",
    ]
    if rt.random() < 0.5:
        lines.append(f"{agent}: Is there anything else I can help you with today?")
    return "\n".join(lines)


def call_summary(rt: random.Random, topic: str, good: bool, order_ref: str | None) -> str:
    """The agent's after-call summary (public comment on a phone ticket)."""
    what = rt.choice(SUBJECTS[topic]).rstrip("?").lower()
    ref = f" re {order_ref}" if order_ref else ""
    outcome = rt.choice(
        ("resolved on call", "customer satisfied", "refund issued", "replacement sent")
        if good
        else (
            "customer upset, follow-up needed",
            "could not resolve, escalated",
            "callback promised",
        )
    )
    return f"Inbound call{ref}: {what}. {outcome.capitalize()}."
