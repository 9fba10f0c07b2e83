"""Fast, vectorized statistics shared by the checks and by ``rai audit``.

Each module computes the numbers a reviewer would get from the reference library of its field
(fairlearn, scikit-learn, evidently, dp-accounting), without importing TensorFlow.
"""
