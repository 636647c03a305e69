"""English phrase bank; same keys and rules as phrases_ru."""

from __future__ import annotations

from .phrases_ru import Bank, PairBank

COMMON: Bank = {
    "greet_morning": ("Good morning", "Good morning", "Morning", "Hello", "Hi", "Hi there"),
    "greet_day": ("Good afternoon", "Hello", "Hello", "Hi", "Hi there", "Good day", "c:Hello!", "c:Hi!"),
    "greet_evening": ("Good evening", "Hello", "Hi", "Good evening", "Hi there"),
    "company_plain": ("{company}", "{company} customer [service|support]", "{company} [card services|help desk]", "{company} contact centre"),
    "company_warm": ("thank you for calling {company}", "thanks for calling {company}", "welcome to {company}", "c:thanks for contacting {company}"),
    "intro": (
        "my name is {name}", "my name is {name}", "you're speaking with {name}", "this is {name}", "{name} speaking",
        "{name} here", "I'm {name}", "c:my name is {name} and I'll be helping you today",
    ),
    "offer": (
        "how can I help you?", "how may I help you today?", "what can I do for you?", "how can I help?",
        "what can I help you with today?", "how can I assist you?", "v:go ahead, I'm listening", "c:how can I help?",
    ),
    "offer_after_problem": ("let me look into that for you", "I can see your question, let's sort it out", "let me check what's going on", "I'll help you with that"),
    "no_greet_terse": ("yes?", "go ahead", "customer service", "what's the issue?", "c:What's the issue?", "c:Go ahead."),
    "out_intro": ("my name is {name}", "this is {name}", "it's {name}", "{name}"),
    "out_ask": ("am I speaking with {cust_formal}?", "is this {cust_formal}?", "could I speak to {cust_formal}?", "{cust_formal}, is now a good time to talk?"),
    "out_recording_notice": ("this call is [being |]recorded [for quality purposes|for quality and training|]", "please note [that |]this call [is|may be] recorded", "just so you know, [the|this] call is recorded", "calls are recorded for quality [assurance|purposes]"),
    "out_company": ("from {company}", "I'm calling from {company}", "{company} customer care", "calling from {company}"),
    "cust_purpose_ack": ("Yes, I know.", "Oh right, go on.", "Okay, and?", "Yes, I remember.", "Oh, I forgot about that."),
    "cust_pickup": ("Hello?", "Yeah, hello?", "Hello, who's this?", "Yes?", "Speaking."),
    "cust_confirm": ("Yes, speaking.", "Yeah, that's me.", "Yes, it's me. What's this about?", "Sure, go ahead.", "Yes, I've got a minute."),
    "cust_greet": ("Hi", "Hello", "Hi there", "Yeah, hi", "Oh hi", "Morning"),
    "ident_ok": (
        "Thank you, you're verified.", "Thanks, {cust_first}, that all matches.", "Perfect, thank you for confirming.",
        "Great, that's all verified.", "Thank you, I've got your account up.",
    ),
    "hold": ("One moment, let me check.", "Bear with me a second.", "Let me just pull that up.", "Just a moment please.", "Give me a second to check that."),
    "back_from_hold": ("Thanks for waiting.", "Okay, so.", "Right, I can see it now.", "Alright."),
    "anything_else": (
        "Is there anything else I can help you with?", "Anything else [today|I can do for you]?", "Can I help with anything else?",
        "Is there anything else you need?",
    ),
    "no_more": ("No, that's all, thanks.", "Nope, that's it.", "No, that's everything, thank you.", "That's all for now, thanks.", "No, I'm good."),
    "closing": (
        "Thank you for calling {company}, have a [great|nice|lovely] day!", "You're welcome. Take care, goodbye!",
        "Thanks for [reaching out|contacting us]. Bye now!", "Have a good [day|evening], bye.", "It was a pleasure helping you. Goodbye!",
        "c:Thanks for contacting {company}! Have a great day.", "c:Glad I could help, have a nice day!",
    ),
    "closing_named": ("This was {name}, have a great day, goodbye!", "c:This was {name} from {company}, have a great day!"),
    "cust_bye": ("Bye.", "Thanks, bye.", "You too, bye.", "Cheers, bye.", "Goodbye."),
    "no_closing_end": ("Okay.", "Right.", "Mm-hm.", "Done.", "Sure.", "Yep."),
    "cust_ack": ("Okay, got it.", "Alright, thanks.", "I see.", "Fine, okay.", "Great, thank you.", "Makes sense."),
    "pushback": (
        "Wait, why does it take so long?", "I don't get it, can you explain again?", "This is the second time I'm calling about this!",
        "Can't you just fix it now?", "Seriously? I need the money today.", "That makes no sense to me.",
    ),
    "rude": (
        "That's not my problem.", "Calm down.", "Whatever.", "I already told you that.", "Are you even listening?",
        "How many times do I have to say it?", "Figure it out yourself.", "I don't have time for this.",
        "That's your problem, not ours.", "Read the contract, it's all there.", "Look, I've explained this three times already.",
        "c:I already wrote that, read my messages.",
    ),
    "card_disclose": (
        "I can see the card {card}, is that the right one?", "Your new card number is {card}.", "The full number is {card}.",
        "So the card {card} is the one that's blocked.", "c:Card number: {card}", "c:Your card {card}, correct?",
    ),
    "bot_welcome": ("Hi! I'm the {company} virtual assistant. Please describe your question.", "Welcome to {company} chat! Type your question and we'll get back to you."),
    "system_connect": ("Connecting you to an agent...", "Please wait, an agent will join shortly."),
    "system_joined": ("An agent has joined the chat.", "Agent connected."),
    "system_closed": ("Chat ended.", "The conversation has been closed."),
    "cust_hi_chat": ("Hello", "Hi", "Hi, anyone there?", "Hello, I have a question", "hey"),
}

PAIRS: PairBank = {
    "ident": (
        ("For security, could you confirm your full name and date of birth?", "{cust_full}, {dob}."),
        ("Can you verify your date of birth and your security word, please?", "{dob}, and the word is {codeword}."),
        ("I'll just need to verify your identity first. What's your date of birth?", "It's {dob}."),
        ("Before we go on, could you give me your IIN please?", "Sure, {iin}."),
        ("Could I take your full name and IIN to verify the account?", "{cust_full}, IIN {iin}."),
    ),
    "generic_extra": (
        ("Are you using the latest version of the app?", "I think so, I updated it last week."),
        ("Do you get our notifications?", "Sometimes, not always."),
        ("Did you try doing that in the app?", "I tried, but it keeps giving me an error, that's why I'm calling."),
        ("Just so you know, it usually takes three to five working days, that's the standard time.", "Okay, if that's how it works."),
        ("Is the phone number on your profile still current?", "Yes, same number."),
    ),
}

PROBLEM: Bank = {
    "billing/charge": (
        "I've been charged {amount} tenge [and I didn't buy anything|for something I didn't buy].",
        "There's a charge of {amount} tenge from {merchant} {when} that I don't recognise.",
        "Why is there a {fee} tenge fee on my account? I never had that before.",
        "I was charged twice for the same purchase at {merchant}, {amount} tenge.",
    ),
    "billing/balance": (
        "I'd like to know why my balance is [negative|lower than it should be].",
        "Can you tell me how much I have on my card? The app won't open.",
        "My salary hasn't arrived, and work says they sent it {when}.",
    ),
    "card_blocked/unblock": (
        "My card's been blocked and I can't pay for anything.",
        "I got a text saying my card is blocked. What happened?",
        "I tried to pay at {merchant} {when} and it says the card is blocked.",
        "I entered the wrong PIN three times and now the card is blocked.",
    ),
    "card_blocked/lost": (
        "I've lost my card, I need to block it [right away|urgently].",
        "My wallet was stolen with the card in it, please block it.",
        "I think I left my card in the ATM, what do I do?",
    ),
    "card_reissue/expired": ("My card [is about to expire|has expired], how do I get a new one?", "I got a notice that my card expires this month. What should I do?"),
    "card_reissue/damaged": ("My card is [cracked|damaged] and the chip doesn't work, I need a new one.", "The card stopped working in terminals, can I get it reissued?"),
    "complaint/branch": (
        "I want to complain about the service at your branch on {street}.",
        "I was at your branch {when}, [waited two hours|the staff were rude], and I'd like to file a complaint.",
    ),
    "complaint/app": (
        "Your app has been [crashing|down] for [three days|the whole morning], is that normal?",
        "My transfer got stuck in the app, the money left my account but never arrived.",
    ),
    "address_change/move": ("I've moved and need to update my address.", "I need to change my home address, my statements still go to the old one."),
    "tariff_change/upgrade": ("I'd like to change my plan, I'm on {tariff} at the moment.", "Can I switch to the {new_tariff} plan? What does it cost?"),
    "collections/overdue": (
        "I'm calling about the overdue payment on your loan.",
        "I'm calling to remind you there's an outstanding balance of {debt} tenge.",
        "There's a missed payment on your credit card and I'd like to agree when you can pay it.",
    ),
    "callback/complaint_result": (
        "You contacted us about [a complaint|an issue], reference {ticket}, and I'm calling with the result.",
        "I'm calling you back about your request {ticket}, as promised.",
    ),
}

CLARIFY: PairBank = {
    "billing": (
        ("When did you notice the charge?", "{when}, in the afternoon."),
        ("Is this the card ending in {last4}?", "Yes, {last4}."),
        ("Has anyone else had access to the card?", "No, it's always with me."),
    ),
    "card_blocked": (
        ("Do you have the card with you now?", "Yes, it's right here."),
        ("Is it the card ending in {last4}?", "Yes, that's the one, {last4}."),
        ("What was the last transaction you made?", "{when} at {merchant}, about {amount} tenge."),
    ),
    "card_reissue": (
        ("Would you like to collect the new card at a branch or have it delivered?", "Delivery, please."),
        ("That's the card ending {last4}?", "Yes."),
    ),
    "complaint/app": (
        ("What error do you see?", "It says something went wrong and closes."),
        ("Is your phone Android or iPhone?", "Android, the latest version I think."),
        ("When did it start?", "{when}, right after the update."),
    ),
    "complaint": (
        ("When did this happen?", "{when}, around lunchtime."),
        ("Could you tell me a bit more about what happened?", "I came in and nobody could tell me anything, I just waited for ages."),
    ),
    "address_change": (("What's the new address, please?", "{street} {house}, apartment {flat}, {city}."),),
    "tariff_change": (
        ("Do you mostly pay by card or make transfers?", "Mostly transfers."),
        ("The {new_tariff} plan costs {fee} tenge a month with cheaper transfers. Would that suit you?", "Yes, let's do that."),
    ),
    "collections": (
        ("Could you tell me why the payment was missed?", "[My salary was late|I was ill|I just forgot, to be honest]."),
        ("The outstanding amount is {debt} tenge. When will you be able to pay?", "I think by {pay_date}."),
    ),
    "billing/balance": (
        ("Who was the payment expected from?", "My employer, it's my salary."),
        ("Is this the card ending in {last4}?", "Yes, {last4}."),
    ),
    "callback": (("Just to remind you, you contacted us {when}.", "Yes, I remember."),),
}

SOLUTION: Bank = {
    "billing/charge": (
        "I can see a {amount} tenge transaction at {merchant} {when}. It's still pending and the money will be released within {days}.",
        "The {fee} tenge fee is the monthly maintenance charge on your {tariff} plan.",
        "You're right, it was charged twice. I've raised a refund request, the money will be back within {days}.",
    ),
    "billing/balance": (
        "Your balance is {amount} tenge right now, the last deposit came in {when}.",
        "I can see the deposit, it's being processed and will arrive within {days}.",
    ),
    "card_blocked/unblock": (
        "I've unblocked the card ending in {last4}, you can use it again.",
        "The block has been removed, the card ending {last4} is active again.",
    ),
    "card_blocked/lost": (
        "I've blocked the card ending in {last4}, nobody can use it now.",
        "The card ending {last4} is now blocked. You can order a new one in the app.",
    ),
    "card_reissue/expired": ("I've ordered the reissue, the new card will be ready in {days_acc}.",),
    "card_reissue/damaged": ("I've ordered a replacement card, it'll take {days_acc}.", "Your replacement card is on its way, about {days_acc}."),
    "complaint/branch": ("I've logged your complaint, the reference is {ticket}. You'll get a reply within {days}.",),
    "complaint/app": ("I've passed this to our technical team, reference {ticket}. Meanwhile you can log in through the website.",),
    "address_change/move": ("I've updated your address to {street}, {city}.", "Done, the new address is saved."),
    "tariff_change/upgrade": ("I've switched you to {new_tariff}, it takes effect from tomorrow.", "Done, you're on {new_tariff} now, {fee} tenge a month."),
    "collections/overdue": ("Okay, I've recorded your promise to pay {debt} tenge by {pay_date}.", "Noted: {debt} tenge by {pay_date}. Please don't miss it, or a late fee will apply."),
    "callback/complaint_result": (
        "Regarding {ticket}, the refund was approved and {amount} tenge will be credited {when_future}.",
        "We've looked into it: the error was on our side and it's fixed, so I'm closing {ticket}.",
    ),
}

FOLLOWUP: PairBank = {
    "billing": (("Can I avoid that fee somehow?", "You could move to a plan without a maintenance fee, for example {new_tariff}."),),
    "card_blocked": (("Why was it blocked in the first place?", "Our fraud system flagged the transaction as unusual, it happens."),),
    "card_reissue": (("Will the card number change?", "Yes, the number is new but the account stays the same."),),
    "complaint": (("Will someone call me back?", "Yes, a specialist will contact you within {days}."),),
    "address_change": (("Do I need a new card?", "No, your card stays the same."),),
    "tariff_change": (("Can I switch back if I don't like it?", "Yes, you can change plans once a month."),),
    "collections": (("Where can I pay?", "In the app under Loans, or at any terminal."),),
    "callback": (("Will I get a notification?", "Yes, you'll get a notification when it's credited."),),
}

EXTRA: PairBank = {
    "billing": (
        ("Have you signed up for any subscriptions?", "Not that I remember."),
        ("So these transactions are first held on the account and then either settled or released, it depends on the merchant.", "So I just wait? And what if they don't give it back?"),
        ("If the money isn't back within {days}, we'll raise a dispute with the payment system, that's a separate process.", "Fine, but I'd like to be notified when it's sorted."),
        ("Let me also check the rest of your transactions for the past week, just to be safe.", "Yes please, that would make me feel better."),
    ),
    "card_blocked": (
        ("Have you used the card abroad recently?", "No, only here."),
        ("Has anyone called you recently claiming to be from the bank?", "Someone called from an unknown number, but I didn't tell them anything and hung up."),
        ("Good. Bank staff will never ask you for an SMS code or your PIN, please keep that in mind.", "Yes, I know, they talk about it on the news all the time."),
    ),
    "card_reissue": (
        ("Are there any automatic payments on this card?", "Just my phone bill."),
        ("Once you get the new card, remember to update it wherever the old one was saved, like taxi or delivery apps.", "Oh right, I've got a couple of subscriptions on it."),
        ("The courier will call you an hour before, and you'll need your passport with you.", "Okay, can they come in the evening?"),
    ),
    "complaint": (
        ("Have you contacted us about this before?", "Yes, I wrote in the chat last week."),
        ("I understand, that's really frustrating. Let me note down all the details so the right people can look into it.", "Please do, because it's not the first time, the same thing happened last month."),
        ("Would you prefer the reply by text or a phone call?", "A text is fine, I'm at work during the day."),
    ),
    "address_change": (
        ("Do you know the postcode?", "I think it's 050000."),
        ("Shall I change the mailing address to the new one as well?", "Yes, everything to the new address please."),
    ),
    "tariff_change": (
        ("Do you use the cashback much?", "Now and then, mostly at petrol stations."),
        ("On {new_tariff} transfers are free up to a monthly limit, and there's a small fee above it.", "What's the limit? I usually send about {amount} a month."),
    ),
    "collections": (
        ("Has your income changed recently?", "I changed jobs, it's sorted now."),
        ("If paying the full amount is difficult right now, we can look at restructuring, that goes through an application.", "No, that's okay, I'll pay it myself, just a bit later."),
        ("Just a reminder that a late fee is added for every day overdue, so it's best not to delay.", "Yes, I understand, I'll pay as soon as I can."),
    ),
    "callback": (
        ("Has the problem come back since?", "No, all fine."),
        ("We checked the transaction with the processing centre, and the failure was on the bank's side.", "Well, good that you figured it out. Why did it take so long though?"),
    ),
}

# An app complaint has no branch staff to ask about.
EXTRA["complaint/app"] = EXTRA["complaint"][:3]

VALUES: dict[str, tuple[str, ...]] = {
    "when": ("yesterday", "the day before yesterday", "this morning", "last Friday", "last week", "over the weekend", "a couple of days ago"),
    "when_future": ("today", "tomorrow", "within the day", "by the end of the week"),
    "merchant": ("Magnum", "Small", "Technodom", "Sulpak", "Arbuz", "Yandex Go", "Helios petrol station", "Chocofood", "Wildberries", "Airba Fresh"),
    "city": ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Pavlodar"),
    "street": ("Abay Avenue", "Satpayev Street", "Tole Bi Street", "Zhandosov Street", "Samal-2", "Kabanbay Batyr Street"),
    "tariff": ("Basic", "Standard", "Premium", "Family", "Business", "Youth"),
    "codeword": ("sunflower", "tiger", "maple", "falcon", "tulip", "river"),
    "days": ("three working days", "five working days", "3-5 working days", "ten days", "two weeks"),
    "days_acc": ("three working days", "five working days", "a week", "10 days", "a couple of weeks"),
}

MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
