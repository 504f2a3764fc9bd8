"""Learner aids: key words and their glosses, pinyin, and the study material made beside every video
(an Anki deck, vocabulary notes, a study page)."""
