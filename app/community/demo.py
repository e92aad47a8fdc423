"""A starter theme list and content library, written for Telos, so a fresh install has
something to tag, browse and suggest. Loading twice adds nothing the second time."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.community import content
from app.community.content_forms import ContentForm
from app.community.models import Theme
from app.community.themes import slug

THEMES = (
    "Career and work", "Learning and growth", "Health and wellbeing",
    "Relationships and family", "Community and belonging", "Youth and education",
    "Environment and climate", "Creativity and the arts", "Faith and spirituality",
    "Fairness and justice", "Starting something new", "Volunteering and service",
    "Money and security", "Life transitions",
)


@dataclass(frozen=True)
class Item:
    title: str
    kind: str
    themes: tuple[str, ...]
    stages: tuple[str, ...]
    summary: str
    body: str
    language: str = "en"


ITEMS = (
    Item(
        "Three good things", "exercise", ("health-and-wellbeing",), ("discover", "reflect"),
        "A ten-minute evening habit: write down three things that went well today and why.",
        "Each evening for one week, write down three things that went well that day, large "
        "or small. Beside each one, add a sentence on why it went well: what you did, who "
        "helped, what made it possible.\n\n"
        "The point is not to pretend everything is fine. It is to train your attention to "
        "notice what gives you energy, because those moments are clues to what matters to "
        "you.\n\n"
        "At the end of the week, read the whole list. Circle anything that shows up more "
        "than once. Bring those circled words to the values step of your journey.",
    ),
    Item(
        "Your life in chapters", "exercise", ("life-transitions", "learning-and-growth"),
        ("reflect",),
        "Divide your life so far into chapters, give each a title, and notice the turning "
        "points between them.",
        "Take a sheet of paper and draw a line from your birth to today. Mark the moments "
        "where your life changed direction: a move, a loss, a new job, a friendship, a "
        "decision.\n\n"
        "Those marks divide your life into chapters. Give each chapter a title as if it "
        "were a book, for example “Finding my feet” or “The busy years”.\n\n"
        "Then ask of each turning point: did it happen to me, or did I choose it? What did I "
        "learn that I still use? Many people find that their strongest sense of purpose "
        "grew out of a chapter they would not have chosen.",
    ),
    Item(
        "The energy audit, one week on", "exercise", ("health-and-wellbeing", "career-and-work"),
        ("reflect", "explore"),
        "Keep a simple log for a week of which activities fill you up and which drain you.",
        "Use three columns: what you were doing, how long, and whether it left you with "
        "more or less energy (from minus two to plus two).\n\n"
        "Do not judge the entries while you write them. At the end of the week, sort the "
        "activities from most energising to most draining. Look for patterns: is it the "
        "people, the kind of task, the time of day, the sense of being useful?\n\n"
        "One small change is enough to start: move one draining task to a better time, or "
        "protect one hour for an activity near the top of your list.",
    ),
    Item(
        "Write your own obituary, then rewrite it", "exercise",
        ("life-transitions", "faith-and-spirituality"), ("reflect", "choose"),
        "A classic, slightly uncomfortable exercise: how would you like to be remembered, "
        "and does your week look like it?",
        "Write half a page as if a close friend were describing your life after you are "
        "gone. Write what you hope they could truthfully say, not what you fear.\n\n"
        "Then underline the qualities and contributions in it: patient, brave, built "
        "something, raised kind children, stood up for others.\n\n"
        "Finally, look at last week's calendar. How much of it served what you underlined? "
        "The gap is not a reason for guilt; it is the most honest map you have of where "
        "purpose could grow.",
    ),
    Item(
        "Values card sort at the kitchen table", "exercise",
        ("relationships-and-family", "learning-and-growth"), ("reflect", "refine"),
        "Write thirty values on scraps of paper and sort them, alone or with someone who "
        "knows you well.",
        "Write one value per scrap: honesty, adventure, security, faith, family, creativity, "
        "fairness, learning, health, freedom, service, and so on. Add your own.\n\n"
        "Sort them into three piles: very important, important, less important. The very "
        "important pile may hold no more than five.\n\n"
        "Doing it with a partner or friend helps: ask them to sort the cards as they think "
        "you would. Where your piles differ, talk about why. The conversation is often worth "
        "more than the final list.",
    ),
    Item(
        "Who shaped you: a letter you may never send", "exercise",
        ("relationships-and-family",), ("connect",),
        "Write to one person who influenced the direction of your life, and say what they "
        "gave you.",
        "Choose one person, living or not, who changed how you see the world: a teacher, a "
        "grandparent, a coach, a colleague, an author.\n\n"
        "Write them a letter. Describe a specific moment you remember with them, what you "
        "learned from it, and where that lesson shows up in your life now.\n\n"
        "You do not have to send it. If the person is alive and you do send it, many people "
        "report that it is one of the most rewarding things they did that year, for both "
        "sides.",
    ),
    Item(
        "Map your support network", "exercise", ("community-and-belonging",
                                                 "relationships-and-family"), ("connect",),
        "Draw the people around you in circles of closeness, and notice who you could ask "
        "for what.",
        "Put yourself in the middle of a page. In the first circle, write the people you "
        "could call at two in the morning. In the second, people you see often and trust. "
        "In the third, acquaintances, former colleagues, neighbours.\n\n"
        "Beside each name, note what they are good at: listening, practical help, ideas, "
        "contacts, honest feedback.\n\n"
        "Now look for gaps. If nobody gives you honest feedback, or nobody works in the area "
        "you are curious about, that is exactly what a mentor or a new community could "
        "offer.",
    ),
    Item(
        "How to ask for a conversation, not a favour", "article",
        ("career-and-work", "community-and-belonging"), ("connect", "explore"),
        "A short guide to reaching out to someone whose work interests you, so that they "
        "are glad to say yes.",
        "People who do interesting work are often happy to talk about it for twenty "
        "minutes, if the request is easy to accept.\n\n"
        "Keep the message short. Say how you came across them, what in particular caught "
        "your attention, and ask one clear question: “Could I ask you about how you got "
        "started, for twenty minutes by phone, some time in the next few weeks?”\n\n"
        "Do not ask for a job, a contact or a review of your plans in the first message. "
        "Prepare three questions, keep to the time, and send a thank-you note afterwards "
        "saying what you will do with what you heard. That note is what turns a "
        "conversation into a relationship.",
    ),
    Item(
        "Try it for a day: shadowing someone's work", "exercise",
        ("career-and-work", "youth-and-education"), ("explore",),
        "Before you change direction, spend a day beside someone who already does the work.",
        "Descriptions of a job or a cause always leave out the ordinary parts: the emails, "
        "the waiting, the small frustrations and the small joys. A day of shadowing shows "
        "you those.\n\n"
        "Ask someone from your network, or through your mentor, if you could spend a day "
        "or half a day with them. Offer to help with something simple.\n\n"
        "Afterwards, write down three things that surprised you, one thing you would enjoy "
        "doing every week, and one you would dread. Those notes are worth more than any "
        "number of articles about the field.",
    ),
    Item(
        "Small experiments beat big decisions", "article", ("starting-something-new",
                                                            "learning-and-growth"),
        ("explore", "refine"),
        "Why it helps to test a possible purpose with something small and cheap before "
        "committing to it.",
        "It is tempting to treat purpose as one big decision: quit, move, retrain. Most "
        "people who find meaningful work get there through a series of small tests "
        "instead.\n\n"
        "A good experiment is small (a weekend, an evening a week for a month), cheap, and "
        "teaches you something you could not learn by thinking. Volunteering once at a food "
        "bank tells you more than a month of wondering whether you would like community "
        "work.\n\n"
        "Write down beforehand what you expect to feel and learn. Compare afterwards. If "
        "the experiment disappoints, you have saved yourself a costly mistake; if it "
        "delights you, you know what the next, slightly bigger experiment should be.",
    ),
    Item(
        "Volunteering that fits your purpose", "article",
        ("volunteering-and-service", "community-and-belonging"), ("explore", "act"),
        "How to pick a volunteering role that teaches you something, rather than the first "
        "one on the list.",
        "Not all volunteering is equal for someone exploring their purpose. A role that "
        "puts you in contact with the people you want to serve teaches more than one spent "
        "alone with a spreadsheet, though both are useful.\n\n"
        "Before you sign up, ask the organisation three questions: what a typical session "
        "looks like, who you would work alongside, and how long they hope you will stay. A "
        "good organisation will answer honestly.\n\n"
        "Start with a short commitment, two or three months, and review it at the end. "
        "Did it give you energy? Did you learn something about the cause, or about "
        "yourself?",
    ),
    Item(
        "Purpose circle: an evening with four friends", "event",
        ("community-and-belonging", "relationships-and-family"), ("connect", "choose"),
        "A format for a 90-minute gathering where friends help each other put a purpose "
        "into words.",
        "Invite three or four people you trust. Each person gets twenty minutes.\n\n"
        "For the first five, the person talks about what they care about and what they are "
        "wondering. For ten minutes the others ask only open questions: no advice, no "
        "stories of their own. In the last five minutes, each listener says in one sentence "
        "what they heard the person cares about most.\n\n"
        "The speaker writes those sentences down without arguing with them. Many people "
        "find their first draft of a purpose statement in what others heard them say.",
    ),
    Item(
        "Community walk and talk", "event", ("community-and-belonging",
                                             "health-and-wellbeing"), ("connect",),
        "A monthly walk where members pair up for half the route and swap partners at the "
        "halfway point.",
        "Pick a route of about an hour that is easy for everyone, with a place to stop in "
        "the middle. Members pair up at the start and talk about one question given by the "
        "organiser, such as “What is something you would like more of in your life?”\n\n"
        "At the halfway point everyone finds a new partner and a new question. Walking side "
        "by side makes conversation easier for many people than sitting face to face.\n\n"
        "Keep it free, short and regular. The regularity is what builds belonging.",
    ),
    Item(
        "Drafting a purpose statement in three sentences", "article",
        ("learning-and-growth",), ("choose",),
        "A simple structure for a first draft: who you want to serve, what you want to "
        "give, and why it matters to you.",
        "A purpose statement does not need to be grand. A useful first draft answers three "
        "questions, one sentence each.\n\n"
        "Who: the people, place or cause you want to be useful to. What: what you bring "
        "them, in plain verbs such as teach, build, care for, connect. Why: the reason it "
        "matters to you, often rooted in your own story.\n\n"
        "For example: “I want to help young people in my town who struggle at school. I "
        "want to tutor and encourage them. A teacher once did that for me, and it changed "
        "everything.” Read it aloud. If it sounds like someone else, change a word until "
        "it sounds like you.",
    ),
    Item(
        "Asking for feedback that helps", "article", ("learning-and-growth",
                                                      "relationships-and-family"),
        ("choose",),
        "How to ask someone to read your purpose statement so that their answer is useful, "
        "not just polite.",
        "“What do you think?” invites a polite “Looks great!” Ask a narrower question "
        "instead.\n\n"
        "Good questions: “Does this sound like me? Where not?” “Which sentence is the "
        "strongest?” “What is missing that you have seen me care about?”\n\n"
        "When the answer comes, listen without defending the draft. Thank the person and "
        "decide later, on your own, what to change. Feedback is information, not an "
        "order.",
    ),
    Item(
        "Letting go: what to carry forward", "exercise", ("life-transitions",),
        ("repack",),
        "Sort your commitments into what to keep, what to change and what to put down, to "
        "make room for your purpose.",
        "List everything that regularly takes your time and attention: roles, obligations, "
        "habits, possessions that need care, even worries.\n\n"
        "Mark each one: keep (it serves your purpose or your wellbeing), change (it could "
        "if done differently), or put down (it no longer fits).\n\n"
        "Choose one item marked “put down” and decide how and when you will let it go. "
        "Tell someone. Purpose needs room, and room is usually made by stopping something, "
        "not by squeezing more in.",
    ),
    Item(
        "Money and meaning: a calm look at the numbers", "article",
        ("money-and-security", "career-and-work"), ("repack", "act"),
        "Before a change of direction, work out what you truly need each month, so fear "
        "does not decide for you.",
        "Worries about money stop many people from pursuing a purpose, often without their "
        "ever looking at the numbers.\n\n"
        "Write down your essential monthly costs: housing, food, transport, debts, care. "
        "Then your comfortable costs: what you spend on top. The first figure is your "
        "floor.\n\n"
        "Now ask: how many months could I cover the floor from savings? Could a change be "
        "gradual, part-time first? Knowing the floor turns a vague fear into a plan with "
        "a date. If the numbers are hard, a free debt or budgeting advice service is a "
        "better first step than giving up on the idea.",
    ),
    Item(
        "First steps that stick", "article", ("learning-and-growth",), ("act",),
        "How to turn a purpose into commitments you actually keep: small, dated and shared.",
        "A commitment you keep has three features. It is small enough to start this week. "
        "It has a date. Someone else knows about it.\n\n"
        "“Help the environment” is not yet a commitment. “Join the river clean-up on the "
        "first Saturday of next month and bring my neighbour” is.\n\n"
        "Plan for the week it goes wrong: decide now what you will do if you miss a step "
        "(the answer is usually: the next step, without starting over). Review your "
        "commitments with your mentor or a friend once a month.",
    ),
    Item(
        "Mentoring young people: what helps most", "article",
        ("youth-and-education", "volunteering-and-service"), ("explore", "act"),
        "What research and long-time mentors agree matters most when you support a young "
        "person: showing up, listening, and patience.",
        "The single most important thing a mentor of a young person does is keep showing "
        "up. Relationships that end early can leave a young person worse off than none, so "
        "commit only to what you can sustain.\n\n"
        "Listen more than you advise. Ask about what they enjoy, not only about school "
        "results. Let them choose some of what you do together.\n\n"
        "Expect slow progress and the occasional missed meeting. Trust builds over months, "
        "not weeks. If you are unsure, start with a structured programme that trains and "
        "supports its mentors.",
    ),
    Item(
        "Reading with a child: a volunteer's guide", "article", ("youth-and-education",),
        ("act",),
        "How to make half an hour of reading with a child enjoyable, even if they find "
        "reading hard.",
        "Let the child choose the book whenever possible, even if it looks too easy. "
        "Enjoyment comes first; stretching comes later.\n\n"
        "Take turns reading pages. When they get stuck on a word, wait a few seconds before "
        "helping, then give the word without fuss. Talk about the pictures and what might "
        "happen next.\n\n"
        "End every session on something they did well, and be specific: “You worked out "
        "that long word by yourself.”",
    ),
    Item(
        "Climate action where you live", "article", ("environment-and-climate",
                                                     "community-and-belonging"),
        ("explore", "act"),
        "Ways to act on climate concerns locally, chosen by how much time you have.",
        "One hour a month: join a local group's mailing list and go to one meeting or "
        "clean-up. Ask what they most need help with.\n\n"
        "One evening a week: help run something that already exists, such as a repair "
        "café, a community garden or a shared-tools library.\n\n"
        "More: bring your professional skills. Accountants, writers, builders and teachers "
        "are all needed by small environmental groups. Acting with others also helps with "
        "the worry many people feel about the climate; it turns it into something you can "
        "do.",
    ),
    Item(
        "A creative practice, fifteen minutes a day", "exercise",
        ("creativity-and-the-arts", "health-and-wellbeing"), ("explore", "express"),
        "Keep a small daily creative habit for a month and see what it tells you.",
        "Choose one medium: drawing, writing, music, photography, cooking something new. "
        "Do it for fifteen minutes a day for thirty days. Quality does not matter; showing "
        "up does.\n\n"
        "At the end of each session, write one line: what did I enjoy, what did I lose "
        "track of time doing?\n\n"
        "After a month, read the lines. Some people discover that the craft itself matters "
        "to them; others find it was the quiet, or the sharing, that mattered. Both are "
        "useful to know.",
    ),
    Item(
        "Silence and reflection: a half-day retreat at home", "exercise",
        ("faith-and-spirituality", "health-and-wellbeing"), ("reflect", "repack"),
        "A structure for four quiet hours, with or without a religious practice.",
        "Choose a morning with no appointments. Switch off your phone.\n\n"
        "First hour: a walk without headphones. Second hour: write freely about what has "
        "been on your mind lately. Third hour: rest, read something that nourishes you, "
        "pray or meditate if that is part of your life. Fourth hour: write down one thing "
        "you want to start, one to continue and one to stop.\n\n"
        "Many traditions have practised this kind of regular withdrawal for centuries, for "
        "good reason: purpose is hard to hear over noise.",
    ),
    Item(
        "Standing up for fairness at work", "article", ("fairness-and-justice",
                                                        "career-and-work"), ("act",),
        "Practical ways to act when you see unfair treatment in your workplace.",
        "You do not need a title to make a workplace fairer. Start by noticing who speaks in "
        "meetings and who does not, and invite the quiet ones in.\n\n"
        "When you see something unfair, write down what happened, when, and who was there. "
        "Talk to the person affected before acting on their behalf; they may want something "
        "different from what you expect.\n\n"
        "Find out what formal routes exist (a union, a staff network, a complaints process) "
        "and who else shares your concern. Acting together is safer and more effective "
        "than acting alone.",
    ),
    Item(
        "Testing a business idea in a month", "exercise", ("starting-something-new",
                                                           "money-and-security"),
        ("explore", "act"),
        "Before you invest savings, find out in four weeks whether anyone wants what you "
        "want to offer.",
        "Week one: write down who your idea is for and what problem it solves for them. "
        "Talk to five such people without selling anything; ask how they deal with the "
        "problem today.\n\n"
        "Week two: describe your offer on one page, with a price. Week three: ask people "
        "to buy, pre-order or sign up. Week four: count the yeses, and read the reasons "
        "for the noes.\n\n"
        "Few ideas survive unchanged, and that is the point. A month of testing is cheap; a "
        "year building something nobody wants is not.",
    ),
    Item(
        "Changing direction in mid-life", "article", ("life-transitions",
                                                      "career-and-work"),
        ("discover", "refine"),
        "Why a change of direction after forty is common, and what helps it go well.",
        "Many people feel a pull toward more meaningful work in their forties, fifties or "
        "later. It is not a crisis; it is often the first time there is room to ask the "
        "question.\n\n"
        "What helps: experience counts for more than most people think, so list the skills "
        "you use every week, not your job titles. Change gradually where you can, through "
        "volunteering, part-time work or a project alongside your job. Talk to people who "
        "made a similar change.\n\n"
        "What hinders: waiting for certainty. No amount of thinking removes all doubt; small "
        "experiments reduce it.",
    ),
    Item(
        "Sharing your purpose without preaching", "article", ("community-and-belonging",),
        ("express",),
        "How to tell others what you care about in a way that invites them in.",
        "When you first put a purpose into words, it can feel awkward to say out loud. "
        "Practise a short version, two sentences, for when someone asks what you are up "
        "to.\n\n"
        "Speak from your own experience (“I have started tutoring because...”) rather than "
        "about what others should do. Ask about their interests in return.\n\n"
        "Sharing is not only for others: saying your purpose aloud, and hearing how people "
        "respond, is one of the best ways to find out whether it still fits you.",
    ),
    Item(
        "Ejercicio: tres cosas buenas", "exercise", ("health-and-wellbeing",),
        ("discover", "reflect"),
        "Un hábito de diez minutos por la noche: anota tres cosas que salieron bien hoy y "
        "por qué.",
        "Cada noche durante una semana, escribe tres cosas que salieron bien ese día, "
        "grandes o pequeñas. Junto a cada una, añade una frase sobre por qué salió bien: "
        "qué hiciste tú, quién ayudó, qué lo hizo posible.\n\n"
        "No se trata de fingir que todo va bien, sino de entrenar la atención para notar "
        "lo que te da energía, porque esos momentos son pistas de lo que te importa.\n\n"
        "Al final de la semana, lee la lista completa y rodea lo que aparece más de una "
        "vez. Lleva esas palabras al paso de valores de tu recorrido.",
        language="es",
    ),
    Item(
        "Círculo de propósito: una tarde entre amigos", "event",
        ("community-and-belonging", "relationships-and-family"), ("connect", "choose"),
        "Un formato para un encuentro de 90 minutos en el que amigos se ayudan a poner en "
        "palabras un propósito.",
        "Invita a tres o cuatro personas de confianza. Cada una tiene veinte minutos.\n\n"
        "Durante los primeros cinco, la persona habla de lo que le importa. Durante diez, "
        "los demás solo hacen preguntas abiertas, sin consejos. En los últimos cinco, cada "
        "oyente dice en una frase lo que cree que más le importa.\n\n"
        "Quien habla apunta esas frases sin discutirlas. Muchas personas encuentran ahí el "
        "primer borrador de su propósito.",
        language="es",
    ),
)


def load(session: Session) -> None:
    """Adds the starter themes and items that are missing (by key and by title)."""
    existing = set(session.exec(select(Theme.key)))
    for label in THEMES:
        if slug(label) not in existing:
            session.add(Theme(key=slug(label), label=label))
    session.flush()
    taken = content.existing_titles(session)
    missing = [item for item in ITEMS if content.title_key(item.title) not in taken]
    content.create_items(session, rows=[_form(item) for item in missing], created_by_id=None)


def _form(item: Item) -> ContentForm:
    return ContentForm(title=item.title, summary=item.summary, body=item.body, kind=item.kind,
                       themes=list(item.themes), stages=list(item.stages),
                       language=item.language)

