"""The review's rules in one readable, data-driven place: the questionnaire and what each answer implies.

Read top to bottom: the questions, then the rules that classify a technology under the AI Act
(Regulation (EU) 2024/1689), each with the articles it rests on. ``services.classify`` applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from covenant.i18n import N_

Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    section: str
    kind: str = "yesno"  # "yesno", "choice" or "text"
    choices: tuple[tuple[str, str], ...] = ()
    asked: Callable[[Answers], bool] = lambda a: True
    """Whether the question applies given the other answers (otherwise it need not be answered)."""


def yes(a: Answers, key: str) -> bool:
    return a.get(key) is True


RBI_EXCEPTIONS: tuple[tuple[str, str], ...] = (
    ("none", N_("None of the exceptions applies")),
    (
        "victims",
        N_(
            "Targeted search for victims of abduction, trafficking or sexual "
            "exploitation, or missing persons (Art. 5(1)(h)(i))"
        ),
    ),
    (
        "threat",
        N_(
            "Prevention of a specific, substantial and imminent threat to life or a terrorist attack (Art. 5(1)(h)(ii))"
        ),
    ),
    (
        "suspects",
        N_("Localising or identifying a suspect of a serious criminal offence listed in Annex II (Art. 5(1)(h)(iii))"),
    ),
)

SECTIONS: tuple[tuple[str, str], ...] = (
    ("scope", N_("Scope")),
    ("art5", N_("Prohibited practices (AI Act Art. 5)")),
    ("annex3", N_("High-risk uses (AI Act Art. 6 and Annex III)")),
    ("art50", N_("Transparency (AI Act Art. 50)")),
    ("gdpr", N_("GDPR and Law Enforcement Directive")),
)

QUESTIONS: tuple[Question, ...] = (
    Question(
        "is_ai_system",
        N_(
            "Does the system infer from its input how to generate outputs such as "
            "predictions, recognitions or decisions (an AI system, Art. 3(1))?"
        ),
        "scope",
    ),
    Question(
        "social_scoring",
        N_(
            "Does it evaluate or classify people by their social behaviour or personal "
            "traits, leading to detrimental treatment (social scoring)?"
        ),
        "art5",
    ),
    Question(
        "crime_prediction_profiling",
        N_("Does it predict the risk that a person commits a crime based solely on profiling or personality traits?"),
        "art5",
    ),
    Question(
        "untargeted_face_scraping",
        N_(
            "Does it build or expand facial recognition databases by "
            "untargeted scraping of images from the internet or CCTV?"
        ),
        "art5",
    ),
    Question(
        "emotion_work_education",
        N_("Does it infer emotions of people at the workplace or in education institutions?"),
        "art5",
    ),
    Question(
        "biometric_categorisation_sensitive",
        N_(
            "Does it categorise people by their biometric data to infer race, political opinions, "
            "trade union membership, religion, sex life or sexual orientation?"
        ),
        "art5",
    ),
    Question(
        "realtime_rbi",
        N_("Does it identify people remotely from biometric data in real time in publicly accessible spaces?"),
        "art5",
    ),
    Question(
        "law_enforcement",
        N_("Is it used by or on behalf of law enforcement authorities for law enforcement purposes?"),
        "art5",
    ),
    Question(
        "rbi_exception",
        N_("Which exception of Art. 5(1)(h) applies to the real-time identification?"),
        "art5",
        kind="choice",
        choices=RBI_EXCEPTIONS,
        asked=lambda a: yes(a, "realtime_rbi") and yes(a, "law_enforcement"),
    ),
    Question(
        "prior_authorisation",
        N_(
            "Is each use authorised beforehand by a judicial or independent "
            "administrative authority under national law (Art. 5(3))?"
        ),
        "art5",
        asked=lambda a: (
            yes(a, "realtime_rbi") and yes(a, "law_enforcement") and a.get("rbi_exception") not in (None, "", "none")
        ),
    ),
    Question(
        "remote_biometric_id",
        N_(
            "Does it identify people remotely from biometric data after the "
            "fact (post remote biometric identification)?"
        ),
        "annex3",
    ),
    Question(
        "biometric_categorisation",
        N_("Does it categorise people by other biometric attributes (age, gender, clothing…)?"),
        "annex3",
    ),
    Question(
        "emotion_recognition",
        N_("Does it recognise emotions or intentions of people (outside work and education)?"),
        "annex3",
    ),
    Question(
        "critical_infrastructure",
        N_("Is it a safety component of critical infrastructure (road traffic, water, gas, heating, electricity)?"),
        "annex3",
    ),
    Question(
        "essential_services",
        N_("Does it decide or help decide on access to essential public services or benefits?"),
        "annex3",
    ),
    Question(
        "law_enforcement_assessment",
        N_(
            "Does it assess people for law enforcement: risk of offending or "
            "victimisation, reliability of evidence, or profiling in investigations?"
        ),
        "annex3",
    ),
    Question("migration", N_("Is it used for migration, asylum or border control?"), "annex3"),
    Question("profiling", N_("Does it profile natural persons?"), "annex3"),
    Question(
        "derogation_claimed",
        N_("Do you claim that, although listed in Annex III, it poses no significant risk (Art. 6(3) derogation)?"),
        "annex3",
    ),
    Question(
        "derogation_reason",
        N_(
            "Which condition of Art. 6(3) applies, and why (narrow procedural task, improving a "
            "completed human activity, detecting patterns without replacing human assessment, preparatory task)?"
        ),
        "annex3",
        kind="text",
        asked=lambda a: yes(a, "derogation_claimed"),
    ),
    Question(
        "interacts_with_people", N_("Does it interact directly with people (a chatbot, a voice assistant)?"), "art50"
    ),
    Question(
        "synthetic_content",
        N_("Does it generate or manipulate images, audio, video or text shown to the public?"),
        "art50",
    ),
    Question(
        "large_scale_monitoring",
        N_("Does it systematically monitor publicly accessible areas on a large scale?"),
        "gdpr",
    ),
    Question(
        "necessity_argued",
        N_("Are necessity and proportionality argued in writing (why less intrusive means are not enough)?"),
        "gdpr",
    ),
    Question("retention_bounded", N_("Is the retention period of the data fixed and limited?"), "gdpr"),
)

QUESTION_KEYS = frozenset(q.key for q in QUESTIONS)


@dataclass(frozen=True)
class Rule:
    """One rule: when ``applies`` holds, the technology falls in ``risk_class`` on the strength of ``articles``."""

    key: str
    risk_class: str
    articles: str
    text: str
    applies: Callable[[Answers], bool]


def _rbi_prohibited(a: Answers) -> bool:
    """Real-time RBI in public spaces: prohibited for law enforcement unless an exception applies with prior
    authorisation (Art. 5(1)(h), 5(3)). Outside law enforcement it is not covered by Art. 5(1)(h) and is high-risk."""
    if not (yes(a, "realtime_rbi") and yes(a, "law_enforcement")):
        return False
    exception = a.get("rbi_exception")
    return exception in (None, "", "none") or not yes(a, "prior_authorisation")


PROHIBITED_RULES: tuple[Rule, ...] = (
    Rule(
        "social_scoring", "prohibited", "AI Act Art. 5(1)(c)", N_("Social scoring"), lambda a: yes(a, "social_scoring")
    ),
    Rule(
        "crime_prediction_profiling",
        "prohibited",
        "AI Act Art. 5(1)(d)",
        N_("Predicting crime solely from profiling or personality traits"),
        lambda a: yes(a, "crime_prediction_profiling"),
    ),
    Rule(
        "untargeted_face_scraping",
        "prohibited",
        "AI Act Art. 5(1)(e)",
        N_("Untargeted scraping of facial images"),
        lambda a: yes(a, "untargeted_face_scraping"),
    ),
    Rule(
        "emotion_work_education",
        "prohibited",
        "AI Act Art. 5(1)(f)",
        N_("Emotion recognition at work or in education"),
        lambda a: yes(a, "emotion_work_education"),
    ),
    Rule(
        "biometric_categorisation_sensitive",
        "prohibited",
        "AI Act Art. 5(1)(g)",
        N_("Biometric categorisation by sensitive traits"),
        lambda a: yes(a, "biometric_categorisation_sensitive"),
    ),
    Rule(
        "realtime_rbi_law_enforcement",
        "prohibited",
        "AI Act Art. 5(1)(h), 5(2), 5(3)",
        N_(
            "Real-time remote biometric identification in public spaces for "
            "law enforcement without an authorised exception"
        ),
        _rbi_prohibited,
    ),
)

HIGH_RISK_RULES: tuple[Rule, ...] = (
    Rule(
        "realtime_rbi_authorised",
        "high",
        "AI Act Art. 5(1)(h), 5(3), Annex III 1(a)",
        N_("Real-time remote biometric identification under an authorised exception"),
        lambda a: yes(a, "realtime_rbi") and not _rbi_prohibited(a),
    ),
    Rule(
        "remote_biometric_id",
        "high",
        "AI Act Annex III 1(a)",
        N_("Remote biometric identification"),
        lambda a: yes(a, "remote_biometric_id"),
    ),
    Rule(
        "biometric_categorisation",
        "high",
        "AI Act Annex III 1(b)",
        N_("Biometric categorisation"),
        lambda a: yes(a, "biometric_categorisation"),
    ),
    Rule(
        "emotion_recognition",
        "high",
        "AI Act Annex III 1(c)",
        N_("Emotion recognition"),
        lambda a: yes(a, "emotion_recognition"),
    ),
    Rule(
        "critical_infrastructure",
        "high",
        "AI Act Annex III 2",
        N_("Safety component of critical infrastructure"),
        lambda a: yes(a, "critical_infrastructure"),
    ),
    Rule(
        "essential_services",
        "high",
        "AI Act Annex III 5(a)",
        N_("Access to essential public services"),
        lambda a: yes(a, "essential_services"),
    ),
    Rule(
        "law_enforcement_assessment",
        "high",
        "AI Act Annex III 6",
        N_("Law enforcement assessment of persons"),
        lambda a: yes(a, "law_enforcement_assessment"),
    ),
    Rule(
        "migration",
        "high",
        "AI Act Annex III 7",
        N_("Migration, asylum and border control"),
        lambda a: yes(a, "migration"),
    ),
)

TRANSPARENCY_RULES: tuple[Rule, ...] = (
    Rule(
        "interacts_with_people",
        "limited",
        "AI Act Art. 50(1)",
        N_("Interacts directly with people"),
        lambda a: yes(a, "interacts_with_people"),
    ),
    Rule(
        "synthetic_content",
        "limited",
        "AI Act Art. 50(2), 50(4)",
        N_("Generates or manipulates content"),
        lambda a: yes(a, "synthetic_content"),
    ),
    Rule(
        "emotion_or_categorisation_notice",
        "limited",
        "AI Act Art. 50(3)",
        N_("Emotion recognition or biometric categorisation: people exposed must be informed"),
        lambda a: yes(a, "emotion_recognition") or yes(a, "biometric_categorisation"),
    ),
)


def derogation_holds(a: Answers) -> bool:
    """Art. 6(3): an Annex III system is not high-risk when it poses no significant risk, the condition is
    documented, and it does not profile natural persons (profiling always stays high-risk). Biometric
    identification under Art. 5(1)(h) is never derogated here."""
    return (
        yes(a, "derogation_claimed")
        and bool(str(a.get("derogation_reason") or "").strip())
        and not yes(a, "profiling")
        and not yes(a, "realtime_rbi")
    )


FRIA_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("processes", N_("(a) The deployer's processes in which the system is used, in line with its intended purpose")),
    ("period_frequency", N_("(b) The period of time and frequency of use")),
    ("affected_persons", N_("(c) The categories of persons and groups likely to be affected")),
    ("risks", N_("(d) The specific risks of harm to those persons and groups")),
    ("oversight", N_("(e) The human oversight measures, according to the instructions for use")),
    (
        "mitigation",
        N_("(f) The measures if the risks materialise, including internal governance and complaint mechanisms"),
    ),
)
FRIA_KEYS = tuple(key for key, _ in FRIA_ELEMENTS)
