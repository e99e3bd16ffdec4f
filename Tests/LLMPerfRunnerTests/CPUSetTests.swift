import Testing

@testable import LLMPerfRunner

/// `--cpus`, `--client-cpus`, `--server-cpus`: the list read exactly, written back in its shortest form, and every
/// malformed list refused with what is wrong.
@Suite struct CPUSetTests {
    @Test func aListOfCPUsAndRangesIsReadAndWrittenShortest() throws {
        #expect(try CPUSet(parsing: "1", available: 4).cpus == [1])
        #expect(try CPUSet(parsing: "0-3", available: 4).cpus == [0, 1, 2, 3])
        #expect(try CPUSet(parsing: "3,0-1, 1", available: 4).cpus == [0, 1, 3])
        #expect(try CPUSet(parsing: "3,0-1,2", available: 8).description == "0-3")
        #expect(try CPUSet(parsing: "6,0,1,4", available: 8).description == "0-1,4,6")
    }

    @Test(arguments: [
        ("", "'' is not a CPU number or a range of them"),
        ("a", "'a' is not a CPU number or a range of them"),
        ("1,", "'' is not a CPU number or a range of them"),
        ("-1", "'-1' is not a CPU number or a range of them"),
        ("2-x", "'2-x' is not a CPU number or a range of them"),
        ("3-1", "the range '3-1' runs backwards"),
        ("4", "CPU 4 is not on this machine, whose CPUs are 0-3"),
        ("0-7", "CPU 7 is not on this machine, whose CPUs are 0-3"),
    ])
    func aMalformedListIsRefusedWithWhatIsWrong(_ text: String, _ why: String) {
        #expect(throws: CPUSet.Invalid(description: "CPU list '\(text)': \(why) (e.g. 1, 0-3 or 0,2-3)")) {
            try CPUSet(parsing: text, available: 4)
        }
    }
}
