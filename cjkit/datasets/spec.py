"""Fixed parameters of the Fretboard & Co. story: channels, campaigns, personas, truths.

Everything the generator plants lives here as plain data, so the README, the ground
truth file and the tests all quote the same numbers. Time is measured in days since the
start of the observation window; money is in EUR.
"""

from __future__ import annotations

GENERATOR_VERSION = "2.0.0"

#: Channel vocabulary (canonical order); index positions are used as bit numbers.
CHANNELS: tuple[str, ...] = (
    "search", "social", "display", "email", "referral", "tv", "store", "direct",
)

# ---------------------------------------------------------------- acquisition
#: Share of customers whose first touch (source_channel) is each channel.
SOURCE_SHARE: dict[str, float] = {
    "search": 0.26, "social": 0.18, "display": 0.12, "email": 0.06,
    "referral": 0.10, "tv": 0.10, "store": 0.10, "direct": 0.08,
}
COUNTRY_SHARE: dict[str, float] = {"ES": 0.55, "PT": 0.15, "FR": 0.20, "IT": 0.10}
#: Month factor of the acquisition calendar (Jan..Dec): back to school, Black Friday, Christmas.
MONTH_FACTOR: tuple[float, ...] = (0.9, 0.8, 0.9, 0.9, 0.95, 1.0, 1.05, 0.85, 1.2, 1.0, 1.35, 1.5)
SIGNUP_LAG_MEAN_DAYS = 6.0        # first touch -> signup (store: same visit)
PATH_LENGTH_MEAN_DAYS = 21.0      # signup -> end of the pre-purchase path
NEWSLETTER_OPTIN = 0.65           # share of signups that opt in to the newsletter

# ---------------------------------------------------------------- attribution truth
#: The pre-purchase path is a walk on an absorbing Markov chain over the channels. It starts
#: at the source channel (SOURCE_SHARE); after each touch the customer moves to the next
#: channel, to a first purchase ("conversion") or stops for good ("null"), with these
#: probabilities (the rest of each row is "null"). A channel that follows itself is a repeat
#: touch. TV only starts paths (nobody is led to TV from the site) and always brings the
#: viewer to the site by search or typing the address, where they sign up; email comes only
#: after the signup. Per touch, referral, store and email convert best, display worst;
#: search and email carry the most conversions because so many paths run through them.
PATH_TRANSITIONS: dict[str, dict[str, float]] = {
    "search":   {"search": .12, "social": .04, "display": .04, "email": .14, "referral": .05,
                 "store": .03, "direct": .05, "conversion": .22},
    "social":   {"search": .14, "social": .14, "display": .05, "email": .08, "referral": .04,
                 "store": .01, "direct": .04, "conversion": .06},
    "display":  {"search": .08, "social": .04, "display": .28, "email": .04, "store": .01,
                 "direct": .04, "conversion": .015},
    "email":    {"search": .06, "email": .30, "direct": .05, "store": .03, "referral": .02,
                 "conversion": .32},
    "referral": {"search": .05, "referral": .06, "email": .10, "direct": .04, "conversion": .45},
    "tv":       {"search": .50, "direct": .50},
    "store":    {"store": .18, "email": .10, "direct": .03, "conversion": .36},
    "direct":   {"search": .06, "email": .10, "direct": .14, "store": .02, "conversion": .16},
}

# ---------------------------------------------------------------- purchasing truth
#: BG/NBD (time unit: days) and Gamma-Gamma (EUR) parameters of the single buyer population.
BGNBD = {"r": 0.9, "alpha": 120.0, "a": 1.0, "b": 4.0}
GAMMA_GAMMA = {"p": 2.0, "q": 3.0, "gamma": 150.0}
MIN_ORDER_GAP_DAYS = 0.25       # >= 3 x the session spacing, keeps sessions apart
#: Latent segments: first matching rule wins (f = 365 * lambda, m = p / nu, p = dropout).
SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("champions", "f >= 6 and dropout < 0.25"),
    ("big_ticket", "m >= 250"),
    ("one_and_done", "f < 0.6"),
    ("early_lapsers", "dropout >= 0.35"),
    ("loyal_regulars", "everyone else"),
)
SEGMENTS: tuple[str, ...] = tuple(name for name, _ in SEGMENT_RULES)
PERSONAS: tuple[str, ...] = ("beginner", "gigging_musician", "collector", "parent")
PERSONA_GIVEN_SEGMENT: dict[str, tuple[float, ...]] = {
    "champions": (0.15, 0.60, 0.20, 0.05),
    "big_ticket": (0.10, 0.20, 0.55, 0.15),
    "one_and_done": (0.40, 0.15, 0.10, 0.35),
    "early_lapsers": (0.40, 0.20, 0.10, 0.30),
    "loyal_regulars": (0.30, 0.40, 0.15, 0.15),
}
#: Share of a persona's repeat orders bought in the Madrid store (ES customers only).
STORE_ORDER_SHARE: dict[str, float] = {
    "beginner": 0.20, "gigging_musician": 0.25, "collector": 0.45, "parent": 0.30,
}
REPEAT_ORDER_CHANNEL: dict[str, float] = {
    "direct": 0.35, "search": 0.25, "email": 0.25, "social": 0.10, "referral": 0.05,
}

CATEGORIES: tuple[str, ...] = (
    "guitars", "amps", "pedals & effects", "strings & accessories", "lessons",
    "sheet music & books",
)
#: Category given the order amount: (upper bound EUR, probabilities in CATEGORIES order).
CATEGORY_BY_AMOUNT: tuple[tuple[float, tuple[float, ...]], ...] = (
    (30.0, (0.00, 0.00, 0.00, 0.80, 0.05, 0.15)),
    (120.0, (0.00, 0.05, 0.20, 0.35, 0.30, 0.10)),
    (400.0, (0.25, 0.30, 0.30, 0.00, 0.15, 0.00)),
    (float("inf"), (0.65, 0.30, 0.05, 0.00, 0.00, 0.00)),
)
RETURN_RATE: dict[str, float] = {
    "guitars": 0.09, "amps": 0.07, "pedals & effects": 0.05,
    "strings & accessories": 0.02, "lessons": 0.0, "sheet music & books": 0.03,
}
RETURN_DELAY_DAYS = (2.0, 30.0)

# ---------------------------------------------------------------- sessions
CART_ABANDONMENT = 0.70           # P(a session with add_to_cart ends without a purchase)
CHECKOUT_GIVEN_ABANDON = 0.30     # abandoned cart sessions that reached checkout_start
ABANDON_LEAD_MEAN_DAYS = 4.0      # abandoned session -> the order it precedes
BROWSE_PRODUCT_VIEW = 0.35        # web touch sessions that also view a product

# ---------------------------------------------------------------- churn truth
LOSS_WINDOW_DAYS = 90
MONTH_DAYS = 30
HAZARD_BEFORE_LOSS_WINDOW = 0.01  # monthly probability of unsubscribing, < 90 days inactive
HAZARD_AFTER_LOSS_WINDOW = 0.12   # monthly probability of unsubscribing, >= 90 days inactive
WINBACK_OPEN = 0.25
NEWSLETTER_OPEN = 0.22
NEWSLETTER_CLICK_GIVEN_OPEN = 0.30

# ---------------------------------------------------------------- surveys truth
SURVEY_RESPONSE = 0.30            # orders followed by an answered survey
NPS_MISSING = 0.03                # answered CSAT only
#: (promoter 9-10, passive 7-8, detractor 0-6) probabilities by acquisition group.
NPS_GROUPS: dict[str, tuple[float, float, float]] = {
    "store": (0.60, 0.26, 0.14),
    "display": (0.30, 0.32, 0.38),
    "other": (0.45, 0.33, 0.22),
}
NPS_SCORE_GIVEN_BAND: dict[str, dict[int, float]] = {
    "promoter": {9: 0.45, 10: 0.55},
    "passive": {7: 0.45, 8: 0.55},
    "detractor": {0: 0.03, 1: 0.03, 2: 0.05, 3: 0.08, 4: 0.12, 5: 0.24, 6: 0.45},
}
#: Advocacy after a survey answer: P(review_posted), P(referral_sent), P(social_share).
ADVOCACY_GIVEN_BAND: dict[str, tuple[float, float, float]] = {
    "promoter": (0.35, 0.20, 0.15), "passive": (0.08, 0.03, 0.05), "detractor": (0.15, 0.0, 0.02),
}
SUPPORT_CONTACT = 0.07
COMMENT_MISSING = 0.4
ITEM_WORD: dict[str, str] = {
    "guitars": "guitar", "amps": "amp", "pedals & effects": "pedal",
    "strings & accessories": "strings", "lessons": "lesson pack", "sheet music & books": "songbook",
}
COMMENTS: dict[str, tuple[str, ...]] = {
    "promoter": (
        "The {item} arrived in three days and was perfectly set up.",
        "Great advice from the team, I will buy here again.",
        "Loved the handwritten note in the box and the setup guide.",
        "Best price I found and the {item} sounds amazing.",
        "The staff in the Madrid store really know their gear.",
        "The online community answered my question in an hour.",
    ),
    "passive": (
        "Good {item}, but delivery took longer than promised.",
        "Fine overall, the website could be faster.",
        "Decent prices, nothing special.",
        "The {item} is fine, the box was a bit damaged.",
    ),
    "detractor": (
        "Payment failed twice at checkout before it worked.",
        "The {item} arrived scratched and the return was slow.",
        "Pages take forever to load and support never answered.",
        "Wrong {item} sent, I had to call three times.",
        "Too many marketing emails after one purchase.",
    ),
}

# ---------------------------------------------------------------- campaigns and spend
#: Campaign calendar. kind: "always"; "months" (first, last month, every year); "md"
#: ((month, day), (month, day)) every year; "dates" (first, last ISO date); "sends" (email
#: sends on the listed (month, day) of every year; day 0 = every month on NEWSLETTER_DAY);
#: "saturdays". budget: EUR per active day (email sends: EUR per send); touch: relative
#: weight when a touch on that channel and day picks its campaign (0 = never on touches).
_ALWAYS = {"kind": "always"}
_SUMMER = {"kind": "months", "months": (6, 8)}
_SEPTEMBER = {"kind": "months", "months": (9, 9)}
_BLACK_FRIDAY = {"kind": "md", "md": ((11, 15), (12, 2))}
_CHRISTMAS = {"kind": "md", "md": ((12, 3), (12, 24))}


def _flight(first: str, last: str) -> dict:
    return {"kind": "dates", "dates": (first, last)}


def _sends(*month_days: tuple[int, int]) -> dict:
    return {"kind": "sends", "sends": month_days}


CAMPAIGNS: tuple[dict, ...] = tuple(
    {"name": name, "channel": channel, "budget": budget, "touch": touch, **window}
    for name, channel, budget, touch, window in (
        ("brand_search", "search", 60.0, 1.0, _ALWAYS),
        ("generic_guitar_search", "search", 140.0, 2.0, _ALWAYS),
        ("summer_strings_sale", "search", 50.0, 1.0, _SUMMER),
        ("black_friday_deals", "search", 200.0, 3.0, _BLACK_FRIDAY),
        ("christmas_gift_guide", "search", 150.0, 2.0, _CHRISTMAS),
        ("beginner_guitar_reels", "social", 90.0, 2.0, _ALWAYS),
        ("summer_strings_sale", "social", 40.0, 1.0, _SUMMER),
        ("back_to_school_lessons", "social", 80.0, 2.0, _SEPTEMBER),
        ("black_friday_deals", "social", 150.0, 3.0, _BLACK_FRIDAY),
        ("retargeting_amps", "display", 60.0, 2.0, _ALWAYS),
        ("black_friday_deals", "display", 120.0, 3.0, _BLACK_FRIDAY),
        ("tv_christmas_2024", "tv", 6000.0, 1.0, _flight("2024-11-18", "2024-12-22")),
        ("tv_spring_2025", "tv", 4500.0, 1.0, _flight("2025-03-10", "2025-04-06")),
        ("tv_christmas_2025", "tv", 6500.0, 1.0, _flight("2025-11-17", "2025-12-21")),
        ("music_school_partners", "email", 8.0, 0.0, _ALWAYS),
        ("welcome_series", "email", 5.0, 0.0, _ALWAYS),
        ("monthly_newsletter", "email", 40.0, 0.0, _sends((0, 0))),
        ("summer_strings_sale", "email", 40.0, 0.0, _sends((6, 15), (7, 15))),
        ("black_friday_deals", "email", 40.0, 0.0, _sends((11, 27))),
        ("christmas_gift_guide", "email", 40.0, 0.0, _sends((12, 10))),
        ("winback_90d", "email", 3.0, 0.0, _ALWAYS),
        ("friend_referral_code", "referral", 0.0, 3.0, _ALWAYS),
        ("guitar_blog_partners", "referral", 25.0, 2.0, _ALWAYS),
        ("in_store_demo_days", "store", 350.0, 1.0, {"kind": "saturdays"}),
    )
)
#: Share of touches on a channel that carry no campaign (organic search, walk-in visits).
NO_CAMPAIGN_SHARE: dict[str, float] = {"search": 0.40, "store": 0.50, "direct": 1.0}
#: Media cost model per channel: cost per thousand impressions and click-through rate.
MEDIA: dict[str, dict[str, float]] = {
    "search": {"cpm": 30.0, "ctr": 0.045},
    "social": {"cpm": 6.0, "ctr": 0.009},
    "display": {"cpm": 2.5, "ctr": 0.002},
    "tv": {"cpm": 9.0, "ctr": 0.0},
    "email": {"cpm": 1.5, "ctr": 0.03},
}
REFERRAL_REWARD_EUR = 10.0
NEWSLETTER_DAY = 5                # day of the month the newsletter goes out

#: Event vocabulary: event -> six-stage id, with the channel-specific exceptions after it.
STAGE_OF_EVENT: dict[str, str] = {
    "ad_impression": "awareness", "ad_click": "awareness", "page_view": "awareness",
    "store_visit": "awareness",
    "signup": "acquisition", "newsletter_optin": "acquisition",
    "first_purchase": "onboarding", "welcome_email_open": "onboarding",
    "profile_completed": "onboarding", "community_joined": "onboarding",
    "email_open": "engagement", "email_click": "engagement", "product_view": "engagement",
    "add_to_cart": "engagement", "checkout_start": "engagement", "repeat_purchase": "engagement",
    "winback_email_open": "retention", "support_contact": "retention",
    "return_requested": "retention", "unsubscribe": "retention",
    "review_posted": "advocacy", "referral_sent": "advocacy", "social_share": "advocacy",
}
STAGE_EXCEPTIONS: tuple[dict[str, str], ...] = (
    {"event": "page_view", "channel": "email", "stage": "engagement"},
)
EVENTS: tuple[str, ...] = tuple(STAGE_OF_EVENT)
PURCHASE_EVENTS: tuple[str, ...] = ("first_purchase", "repeat_purchase")
