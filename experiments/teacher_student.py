"""Teacher-student in a spiking error-neuron circuit (see brian_errorcircuits.experiments.teacher_student).

Run: python experiments/teacher_student.py [--out DIR] [--seed N] [--set epochs=20 ...]
Same as: errorcircuits run teacher-student
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("teacher-student")
