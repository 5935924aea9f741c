"""The short commands: ``new`` writes a network file, ``lessons`` lists the curriculum, ``download``
fetches a dataset, ``bench`` measures, and no command at all opens the window."""

from __future__ import annotations

from .errors import UserError
from .progress import download_progress


def command_new(args) -> int:
    from ..engine.costs import check_cost_fits, default_cost_for
    from ..model import save_spec, sequential_spec

    output = args.output or args.activation
    cost = args.cost or default_cost_for(output)
    problem = check_cost_fits(cost, output)
    if problem:
        raise UserError(problem)
    spec = sequential_spec(
        args.sizes, activation=args.activation, output=output, cost=cost, initializer=args.init, name=args.out.stem
    )
    save_spec(spec, args.out)
    print(f"wrote {args.out}: {'-'.join(map(str, args.sizes))} {args.activation}, {output} output, {cost} cost")
    return 0


def command_lessons(args) -> int:
    """The lessons chapter by chapter, in the order the lecture teaches them (the Lessons menu's order)."""
    from ..training.lessons import curriculum, load_lesson

    for number, chapter in enumerate(curriculum(), start=1):
        print(f"{number}. {chapter.title}")
        for name in chapter.lessons:
            print(f"   {name:<28} {(load_lesson(name).lesson or {}).get('title', '')}")
        if not chapter.lessons:
            print("   (coming)")
    return 0


def command_download(args) -> int:
    from ..datasets import download

    folder = download(args.name, progress=download_progress)
    print(f"{args.name} is in {folder}")
    return 0


def command_bench(args) -> int:
    if args.soak:
        from ..gui.soak import run_soak_benchmark

        return run_soak_benchmark(minutes=args.minutes, labs=args.soak_labs, json_output=args.json)
    if args.cold_start:
        from ..bench.cold_start import run_cold_start

        return run_cold_start(json_output=args.json, data_dir=args.data_dir)
    if args.gui:
        from ..gui.bench import run_gui_benchmark

        return run_gui_benchmark(json_output=args.json, quick=args.quick, lesson=args.bench_lesson)
    from ..bench import run_benchmarks
    from ..bench.workloads import BENCHMARKS

    if args.workload is not None and args.workload not in BENCHMARKS:
        raise UserError(f'bench --workload: no workload "{args.workload}"; the workloads: {", ".join(BENCHMARKS)}')
    return run_benchmarks(
        json_output=args.json,
        quick=args.quick,
        data_dir=args.data_dir,
        sweep_only=args.sweep,
        workload=args.workload,
        rounds=args.rounds,
        under_load=args.under_load,
        pin_load=args.pin_load,
        scale=args.scale,
    )


def command_window(args) -> int:
    try:
        from ..gui.app import run_app
    except ImportError as error:
        raise UserError(f"the window cannot start: {error}") from None
    return run_app(
        lesson=args.lesson,
        train_seconds=args.train_seconds,
        screenshot=args.screenshot,
        panel=args.panel,
        data_dir=args.window_data_dir,
        path=args.file,
    )
