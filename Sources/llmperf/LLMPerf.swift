import ArgumentParser

@main struct LLMPerf: ParsableCommand {}
