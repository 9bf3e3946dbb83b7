"""Passerelle's matching engine: pure Python over numpy, pandas and faiss.

No web, no database, no environment variables: configuration comes in as arguments. The shared
domain model sits at the top (:mod:`matching.types`, :mod:`matching.profiles`,
:mod:`matching.errors`, :mod:`matching.files`); each concern has its folder:

- :mod:`matching.referential`: ROME 4.0 cards, appellations, skills, % women, NAF, communes; geo
- :mod:`matching.search`: embedders, lexical features, trade search, the faiss vector index, texts
- :mod:`matching.recommend`: the recommender (trades, vacancies, candidates), items and reasons
- :mod:`matching.fairness`: mixité and mix re-rankers, exposure, fair shortlists, metrics
- :mod:`matching.batch`: batch scoring of whole territories, local or on Ray
- :mod:`matching.events`: the job-dating planner (MILP)
- :mod:`matching.synthetic`: the seeded generator of synthetic youths, employers and vacancies
"""
