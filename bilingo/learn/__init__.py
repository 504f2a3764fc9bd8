"""Learner aids: key words and their glosses, pinyin, (with bilingo.study) decks and notes."""
