import Testing
@testable import RuntimeVerbs

/// `Table`: `list`'s and `ps`'s columns.
@Suite struct TableTests {
    @Test("columns three spaces apart, as wide as their widest cell in characters; repeats shown")
    func layout() {
        var t = Table(["ID", "PID", "BUNDLE", "OWNER"])
        t.append(["c1", "0", "/b/é", "root"])
        t.append(["c22", "12345", "/b/é", "root"])
        t.append(["c3", "0", "/other", "root"])
        t.append(["c4", "0", "/b/é", "root"])
        #expect(t.text() == """
            ID    PID     BUNDLE   OWNER
            c1    0       /b/é     root
            c22   12345   /b/é     root
            c3    0       /other   root
            c4    0       /b/é     root

            """)
    }

    @Test("short rows padded with empty cells, long rows cut to the header")
    func ragged() {
        var t = Table(["A", "B", "C"])
        t.append(["x"])
        t.append(["", "", "z", "dropped"])
        t.append(["", "", ""])
        #expect(t.text() == "A   B   C\nx       \n        z\n        \n")
    }

    @Test("cells of 127, 128 and 300 bytes (one and two length bytes)")
    func longCells() {
        for n in [127, 128, 300, 20000] {
            let long = String(repeating: "x", count: n)
            var t = Table(["A", "B"])
            t.append([long, long])
            t.append(["y", long])
            t.append(["z", "w"])
            let pad = String(repeating: " ", count: n - 1 + 3)
            #expect(t.text() == "A" + pad + "B\n" + long + "   " + long + "\ny" + pad + long + "\nz" + pad + "w\n", "\(n)")
        }
    }

    @Test("cells added as bytes, as list does")
    func bytes() {
        var t = Table(["ID", "STATUS"], expectedRows: 2)
        for (id, status) in [("a", "running"), ("b", "running"), ("c", "stopped")] {
            var id = id, status = status
            id.withUTF8 { t.appendCell($0) }
            status.withUTF8 { t.appendCell($0) }
            t.endRow()
        }
        #expect(t.text() == "ID   STATUS\na    running\nb    running\nc    stopped\n")
    }
}
