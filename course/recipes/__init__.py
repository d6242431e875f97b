"""Training recipes: the programs that train the course's shipped and showcase models.

- ``course.recipes.tinyvgg``: ``TinyVGGRecipe`` and ``train_tinyvgg``, which
  trained the pretrained ConvNet in ``course/weights``.
- ``course.recipes.charrnn``: ``train_charrnn``, ``save_charrnn``,
  ``load_charrnn`` and ``evaluate_bits_per_char`` for the character-level LSTM.
- ``course.recipes.charrnn_experiments``: ``train_char_run``, the short
  character-model runs with which notebook 4 measures the talk's training tips.

Each recipe is plain functions over the Solver and the models; the
``course train`` and ``course sample`` commands in ``course.cli`` call them.
"""
