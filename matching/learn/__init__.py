"""Learning from outcomes (issue #15): logged features, graded labels, the learned ranker.

Pure engine code: :mod:`matching.learn.features` computes the per-(youth, vacancy) features the
suggestion log keeps and the learned ranker scores (one function for both: train/serve parity by
construction); :mod:`matching.learn.labels` grades outcomes into training labels;
:mod:`matching.learn.tables` loads the referential-derived tables the features read.
"""
