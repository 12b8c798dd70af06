"""Instruction-like text: what a knowledge document or a model answer must never carry.

Contract: :data:`INJECTION_PATTERNS` runs over *folded* text (:func:`policy.text.fold`, and its
:func:`~policy.text.compact` form for letter-by-letter spelling), so case, full-width letters,
zero-width characters and look-alikes do not hide an instruction. The retriever withholds every passage
that matches (and every passage of a document whose *file name* matches) from the model; the compliance
checker blocks pieces that repeat such text.

The patterns look for the *act* of instructing a model, not for topics: overriding earlier instructions
("ignore every previous instruction", "SYSTEM OVERRIDE", "忽略之前的所有指令"), chat-template and role
markers ("system:", "<|im_start|>"), jailbreak modes, requests to reveal hidden prompts, and orders
aimed at the assistant ("you must include the code …"). Every alternative is a literal keyword followed
by bounded gaps, compiled by RE2, so matching is linear in the text's length.
"""

from __future__ import annotations

import re2

# RE2 runs in time linear in the text whatever the pattern; the patterns below are many alternatives,
# which RE2 turns into one automaton (about 1,000x faster than Python's re on them). Its DFA cache needs
# more than the 8 MB default for this many alternatives.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 64 << 20

# A gap of up to three words ("ignore ALL OF THE previous instructions"). Letter runs and the runs
# between them never overlap, so a gap splits one way only and matching stays linear.
_GAP = r"(?:[^a-z0-9\n]+[a-z]+){0,3}?[^a-z0-9\n]+"
# Within one sentence: a bounded run of anything but sentence ends.
_IN_SENTENCE = r"[^.!?\n。！？]{0,40}?"
_OVERRIDE = (
    r"ignore|disregard|forget|override|overrule|bypass|discard|abandon|set\s+aside|stop\s+following|jettison|"
    r"nullify|supersedes?|scrap|throw\s+out|pay\s+no\s+attention\s+to|no\s+longer\s+(?:follow|obey)|revoke"
)
# What makes "ignore ... rules" an order to a model rather than advice ("don't ignore the safety rules"):
# it points at instructions given before, or at all of them.
_PRIOR = (
    r"previous|prior|above|earlier|preceding|former|original|existing|initial|all|any|every|each|your|"
    r"these|those|other|system|its|my|whatever"
)
_TARGET = (
    r"instructions?|prompts?|rules|rule\s+set|directions|directives?|guidelines|guidance|policies|constraints|"
    r"restrictions|programming|system\s+messages?|commands|brief|persona|(?:brand\s+)?voice\s+guide"
)
# Words for a model reading the document. The bare "model" and "assistant" also name products and
# people ("the Model S3", "shop assistant"), so they count only where the text addresses them.
_NAMED_AI = (
    r"ai|a\.i\.|llms?|gpt|chatgpt|claude|gemini|chat\s?bots?|(?:language|generative|copywriting|ai)\s+models?|"
    r"(?:ai|copywriting|automated|autonomous|generative|virtual)\s+(?:[a-z]+\s+)?(?:writers?|copywriters?|"
    r"assistants?|tools?|systems?|agents?|generators?|summari[sz]ers?|bots?)|"
    r"(?:automated\s+)?content\s+generators?|ad\s+generators?|summari[sz]ers?"
)
_WEAK_AI = r"bots?|models?|assistants?|generators?"
_AI = f"{_NAMED_AI}|{_WEAK_AI}"
# An order right after an address ("Assistant, please answer…", "Hey bot, when you write…").
_ORDER = (
    r"please|you|when|if|from\s+now|ignore|forget|disregard|stop|do\s+not|don't|always|never|write|tell|say|"
    r"add|insert|include|mention|recommend|reply|respond|answer|describe|state|list|reveal|skip|set\s+aside|drop"
)
# A word that may stand before one of those in an address ("copywriting bot:", "note to the writer bot").
_AI_QUALIFIER = r"(?:copywriting|writing|writer|content|marketing|automated|ad|text|summary|chat)\s+"
_STRONG_AI = (
    r"ai|llms?|gpt|chatgpt|chat\s?bots?|(?:language|generative|copywriting)\s+models?|"
    r"ai\s+(?:writers?|copywriters?|tools?|systems?|models?)|copywriting\s+bot|(?:automated\s+)?content\s+generators?|"
    r"generators?|summari[sz]ers?"
)
_READING = (
    r"reading|reads|processing|processes|summari[sz]ing|handling|generating|drafting|writing|using|parsing|"
    r"turning"
)
_ZH_AI = (
    r"ai|大模型|语言模型|生成式模型|模型|机器人|智能助手|助手|写手|人工智能|文案工具|写作工具|"
    r"自动化?(?:文案|写作)?工具"
)
_ZH_OVERRIDE = r"忽略|无视|忽视|不要理会|不理会|忘记|忘掉|跳过|推翻|放弃|抛开|不必遵守|不用遵守|无需遵守|别管"
_ZH_PRIOR = r"之前|以上|先前|上面|前面|此前|上述|所有|全部|一切|原有|原来|你的|给你的|你收到的|运营方|系统"
_ZH_TARGET = r"指令|指示|要求|规则|规矩|提示词?|设定|约束|命令|规定|任务"

INJECTION_PATTERNS = re2.compile(
    "|".join(
        [
            # Overriding what came before: "ignore every previous instruction", "disregard the above rules",
            # "jettison the guidance you were handed", "your previous rules have expired".
            rf"\b(?:{_OVERRIDE})\b{_GAP}?(?:{_PRIOR})\b{_GAP}?(?:{_TARGET})\b",
            rf"\b(?:{_OVERRIDE})\s+(?:{_TARGET})\b",
            rf"\b(?:{_OVERRIDE})\b{_GAP}?(?:{_TARGET})\s+(?:above|before\s+this|earlier|so\s+far)\b",
            r"\b(?:supersedes?|overrides?|overrules?|nullif(?:y|ies))\s+(?:all\s+)?(?:of\s+)?your\s+(?:current\s+|"
            r"previous\s+|original\s+)?(?:configuration|settings|setup|programming)\b",
            rf"\b(?:{_OVERRIDE})\b{_GAP}?(?:{_TARGET})\b{_IN_SENTENCE}\b(?:you\s+were|given\s+to\s+you|placed\s+on\s+you|"
            r"(?:the|your)\s+operator|at\s+the\s+start)\b",
            rf"\byour\b{_IN_SENTENCE}\b(?:{_TARGET})\s+(?:have|has)\s+(?:expired|changed|been\s+(?:replaced|revoked|lifted))",
            rf"\btreat\b{_IN_SENTENCE}\b(?:{_TARGET}|orders)\b{_IN_SENTENCE}\bas\s+(?:expired|void|null|invalid|obsolete|"
            r"cancelled|irrelevant|superseded)\b",
            rf"\b(?:your|you\s+were\s+(?:given|handed))\b{_IN_SENTENCE}\b(?:{_TARGET}|orders)\b{_IN_SENTENCE}"
            r"\b(?:no\s+longer\s+(?:apply|applies|count|stand|matter)|(?:are|is)\s+(?:now\s+)?(?:void|null|invalid|"
            r"expired|obsolete|cancelled|revoked))\b",
            rf"\blet\s+go\s+of\b{_GAP}?(?:{_TARGET})\b",
            r"\b(?:you\s+were|you've\s+been|you\s+have\s+been)\s+(?:configured|programmed|instructed|prompted|set\s+up|"
            r"given)\s+with\b",
            r"\b(?:[a-z]+_)+(?:instructions?|override|prompt|config)\b|\b(?:override|system|new|assistant|ai)_[a-z_]+\b",
            r"\[(?:tool_result|tool|function_call|function_result|observation)\]",
            r"\bforget\s+(?:all\s+|everything\s+)?(?:you\s+were\s+told|(?:your|the)\s+(?:previous\s+)?training)",
            r"\bnew\s+(?:instructions?|rules|directives?|orders)\s*[:：]\s*(?:you|ignore|always|never|from)",
            # Override markers and modes: "SYSTEM OVERRIDE", "admin command", "developer mode".
            r"\b(?:system|admin|administrator|developer|root|master|emergency|security|priority)\s+override\b",
            r"\b(?:system|admin|administrator|developer|root)\s+(?:command|directive)s?\b",
            r"\boverride\s*(?:mode|code|protocol|enabled|activated|instructions?|=\s*true)\b",
            r"\b(?:jailbreak|god|dan|unrestricted)\s+mode\b|\bdeveloper\s+mode\s+(?:enabled|activated|on)\b|\bdo\s+anything\s+now\b|\bmode\s*:\s*unrestricted\b",
            r"\byou\s+are\s+now\s+(?:in\s+|an?\s+|the\s+)?(?:developer|dan|jailbreak|god|admin|unrestricted|evil)\b",
            r"\byou\s+are\s+no\s+longer\b|\bfrom\s+(?:now|this\s+point|here)(?:\s+on)?,?\s+you\s+are\b|"
            r"\bpretend\s+(?:that\s+)?you\s+are\b|\bstay\s+in\s+character\b|\byour\s+(?:new\s+)?(?:role|persona|identity)\s+is\b",
            r"\b(?:reply|respond|answer)\s+(?:only|exclusively|solely)\s+(?:with|in)\b|\bstop\s+what\s+you\s+are\s+doing\b",
            r"\band\s+(?:then\s+)?obey\b|\bobey\s+(?:it|them|the\s+following|these)\b",
            # Role and chat-template markers.
            r"(?:^|\n)[ \t#*>\-]*(?:system|assistant)\s*[:：]|\.\s+assistant\s*:",
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>",
            r"\[/?inst\]|<</?sys>>|\[(?:system|admin|instructions?)\]|<\s*/?\s*(?:system|admin|instructions?)\s*>",
            r"#{2,6}[ \t]*(?:system|instructions?|response|admin)\b|\"role\"\s*:\s*\"(?:system|developer)\"",
            r"\bend\s+of\s+(?:the\s+)?(?:context|document|instructions|prompt)\b|\bnew\s+task\s+(?:for\b|:)",
            r"<!--[^>\n]{0,20}?\b(?:ai|assistant|model|llm|bot)\b",
            r"\bas\s+an\s+ai\s+(?:language\s+)?model\b",
            # Asking for hidden instructions.
            r"\b(?:disclose|reveal|print|show|repeat|output|paste|dump|list|recite)\b[^.!?\n]{0,40}?\b(?:system\s+(?:prompt|message)|"
            r"(?:hidden|secret|initial|original|full|exact)\s+(?:prompts?|instructions|configuration|rules)|"
            r"instructions\s+you\s+were\s+given|your\s+(?:prompts?|instructions|configuration|system\s+message))",
            # Text addressed to the model that reads the document.
            r"(?:^|[\n.!?;\[(][ \t]*|"
            r"\b(?:hey|hi|hello|dear|attention|note\s+to|message\s+to|p\.?s\.?\s+to|to|for)\s+"
            rf"(?:the\s+|any\s+|all\s+|every\s+|whichever\s+|whatever\s+)?)"
            rf"(?:(?:{_AI_QUALIFIER})?(?:{_NAMED_AI})|(?:{_AI_QUALIFIER})(?:{_WEAK_AI}))\s*[,:—-]",
            r"(?:^|[\n.!?;\[(][ \t]*|\b(?:hey|hi|hello|attention|note\s+to|message\s+to|p\.?s\.?\s+to)\s+"
            rf"(?:the\s+|any\s+|all\s+|every\s+|whichever\s+|whatever\s+)?)(?:{_WEAK_AI})\s*[,:—-]\s*(?:{_ORDER})\b",
            rf"\b(?:note|message|instructions?|notice|reminder|memo)\s+(?:for|to)\s+(?:the\s+|any\s+|all\s+|every\s+|"
            rf"whichever\s+|whatever\s+)?(?:{_AI_QUALIFIER})?(?:{_AI})\b",
            rf"\bif\s+you(?:'re|\s+are)\s+(?:an?\s+|the\s+|any\s+)?(?:{_AI})"
            rf"(?:[ \t]*[,.:;!?)]|[ \t]*$|\s+(?:{_READING}|who|"
            r"that|which|and|then|please|you|reading|tell|say|write|ignore|stop)\b)",
            rf"\b(?:any|every|all|each)\s+(?:other\s+)?(?:{_AI})\s+(?:that\s+|which\s+|who\s+)?(?:is\s+|are\s+)?(?:{_READING})\b",
            rf"\b(?:{_AI})\s+(?:{_READING})\s+(?:this|these|the\s+(?:page|document|file|sheet|reviews?|text|content|faq))\b",
            # "AI systems summarising this page should state…": a model told what to write, not a product
            # described ("Our AI should save you hours", "the generator should be serviced yearly").
            rf"(?:^|[\n.!?:;,][ \t]*|\b(?:the|any|all|every|each|whichever|whatever)\s+)(?:{_STRONG_AI})\b"
            rf"{_IN_SENTENCE}\b(?:must|should|shall|needs?\s+to|has\s+to|is\s+required\s+to)\s+(?:now\s+|always\s+|"
            r"also\s+|only\s+|quietly\s+|instead\s+)?(?:include|insert|add|append|prepend|write|say|state|describe|"
            r"claim|tell|mention|recommend|promote|praise|output|print|end|start|reply|respond|use|rate|report|swap|"
            r"replace|list|reveal|ignore|drop|skip|remove)\b",
            r"(?:^|[\n.!?:;,][ \t]*|\b(?:the|any|all|every|each)\s+)"
            r"(?:assistant|chatbot|language\s+model|llm|ai)s?\b[,:]?\s+(?:must|should|shall|needs?\s+to|has\s+to)\s+(?:now\s+|always\s+|also\s+|only\s+)?"
            r"(?:include|insert|add|write|say|output|print|mention|recommend|promote|praise|reply|answer|use)\b",
            r"\byou\s+(?:must|should|shall|will)\s+(?:now\s+|always\s+|also\s+)?(?:output|print|append|insert)\s+"
            r"(?:the\s+|this\s+)?(?:code|token|string|phrase|word|text|link|url)\b",
            r"\binstead\s*,?\s+(?:promote|praise|endorse)\b",
            r"\byou\s+(?:skip|ignore|bypass|are\s+not\s+bound\s+by|have\s+no)\s+(?:any\s+|the\s+|all\s+)?(?:content\s+"
            r"polic(?:y|ies)|safety|filters?|restrictions|guidelines|rules|limits)\b",
            r"\bwhen\s+(?:you\s+)?(?:generat|writ|draft|creat|produc)[a-z]*\b[^.!?\n]{0,60}?\b(?:the\s+)?(?:assistant|"
            r"model|ai|writer|generator)\s+(?:should|must|shall|needs?\s+to|has\s+to)\b",
            r"\b(?:when|while)\s+(?:you\s+)?(?:generat|writ|draft|creat|produc)[a-z]*\b[^.!?\n]{0,60}?\b(?:append|prepend|insert)\s+"
            r"(?:the\s+|this\s+)?(?:string|code|token|phrase|text|link|tag|image)",
            r"\b(?:end|start|beginning|top|first\s+line)\s+of\s+your\s+(?:answer|response|reply|output)\b",
            # Chinese: overriding earlier instructions.
            rf"(?:{_ZH_OVERRIDE})掉?[^，。！？\n]{{0,6}}?(?:{_ZH_PRIOR})[^，。！？\n]{{0,8}}?(?:{_ZH_TARGET})",
            rf"(?:把|将)(?:{_ZH_PRIOR})[^，。！？\n]{{0,6}}?(?:{_ZH_TARGET})[^，。！？\n]{{0,4}}?(?:抛到脑后|抛开|忘掉|忘记|作废|丢掉|扔掉)",
            r"覆盖了?你|(?:忽略|无视|忽视)(?:指令|指示|提示词|设定)|(?:忽略|无视)(?:之前|以上|先前|上面|前面|此前)",
            # Chinese: markers, modes, persona and hidden prompts.
            r"系统(?:覆盖|指令|命令|管理员)|系统提示词|管理员(?:指令|命令|模式)|越狱模式|无限制模式|模式[:：]\s*无限制",
            r"【(?:系统|指令|system|admin|管理员)】|#{2,6}[ \t]*(?:系统|指令)|之前的对话已结束|"
            r"新的?任务[:：]|"
            r"新的?(?:指令|指示|命令)[:：]|新的指令",
            r"从(?:现在|此刻|这一刻|今天)(?:起|开始)[，, ]?(?:你|只)|你现在是|你的身份是|"
            r"请(?:改为|转而)推荐|改为推荐",
            r"(?:复述|输出|打印|透露|泄露|公开)[^，。！？\n]{0,12}?(?:提示词|隐藏指令|系统指令|配置|设定|系统消息)|"
            r"(?:提示词|隐藏指令|系统指令|系统消息)[^，。！？\n]{0,16}?(?:复述|输出|打印|透露|泄露)|你的?上下文",
            # Chinese: text addressed to the model.
            rf"(?:致|给|写给|提醒)[^，。！？\n]{{0,12}}?(?:{_ZH_AI})(?:的[^，。！？\n]{{0,6}}?)?[：:，,—]",
            rf"(?:{_ZH_AI})(?:在)?(?:处理|读取|阅读|生成|撰写)[^。！？\n]{{0,10}}?(?:时|的时候)[，,]?\s?(?:须|必须|请|务必|应|要)",
            r"(?:^|\n)[ \t]*(?:系统|助手|ai)[:：]",
            r"[“\"](?:角色|role)[”\"]\s*[:：]\s*[“\"](?:system|系统|developer)",
            r"(?:之前|先前|此前|以前|原来|上面)[^，。！？\n]{0,6}?给你的|给你的[^，。！？\n]{0,10}?(?:不作数|不算数|作废|失效|无效)",
            r"你不受(?:任何)?(?:限制|约束|规则)|你的(?:提示词|系统提示|系统指令|指令列表)|你的(?:角色|身份)(?:已经?)?(?:由|变更|改为|是|变成)|系统提示(?:更新|变更)",
            rf"(?:{_ZH_AI})(?:[，,：:]\s?(?:请注意|请|注意|必须|务必|应该?|应当|需要|都应该?)|请注意|请)",
            r"[，,：:。；;]\s?(?:ai|大模型|语言模型|模型|机器人)(?:必须|务必|应当|需要)(?:执行|遵守|照做|服从|按照)|"
            rf"如果你是(?:一个|一名)?(?:{_ZH_AI})|作为(?:一个|一名)?(?:ai|人工智能|大模型|语言模型)",
            r"(?:任何|所有|每个)[^。！？\n]{0,16}?(?:ai|模型|系统|机器人|助手)[^。！？\n]{0,12}?(?:都)?(?:应该?|必须|需要|务必)",
            r"(?:正在|负责)[^，。！？\n]{0,16}?(?:ai|模型|机器人|助手|写手)(?:[：:，,]|请)",
            rf"(?:读到|看到|处理)[^，。！？\n]{{0,6}}?的(?:{_ZH_AI})",
            r"仅供(?:ai|模型|大模型)阅读|供(?:生成式)?(?:ai|模型|大模型)参考",
        ]
    ),
    _RE2_OPTIONS,
)
CANARY = re2.compile(r"canary[-_:]?[a-z0-9]{3,}")
