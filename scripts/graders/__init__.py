"""The homework graders behind scripts/grade_homework.py: shared plumbing (base) and one module per week.

None of these modules imports TensorFlow at import time: the grader's parent process stays light, and
Keras is imported inside the functions that run in the worker process.
"""
