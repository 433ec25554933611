"""Dating profile matching: score candidates against a member's answers (LangChain)."""

from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from pydantic import BaseModel


class Match(BaseModel):
    score: float
    why: str


llm = ChatOpenAI(model="gpt-5.6-luna", temperature=0)
prompt = ChatPromptTemplate.from_template("Member: {member}\nCandidate: {candidate}\nScore the match.")
chain = prompt | llm.with_structured_output(Match)


def score(member: str, candidate: str) -> Match:  # compliance: feature=dating-profile-match
    return chain.invoke({"member": member, "candidate": candidate})
