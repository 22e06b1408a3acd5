"""The pages' experiments: named setups built from the engine's specs and measurements.

problem         the identity network of The problem (a^L)
through_time    Through time: the cells compared, the LSTM forget bias, clipping in action
"""
